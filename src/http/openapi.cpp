// The OpenAPI 3.1 description served at /openapi.json.
//
// Each operation's own content (summary, query and header parameters, request
// body, success responses, the errors only it raises) is hand-written below; the
// parts every route shares are generated from the route table when the document
// is first served (openapi_document):
//   - public routes: "security": [] (no token);
//   - the role: " Role: <viewer|agent|admin>." appended to the description;
//   - path parameters: {id} → #/components/parameters/Id, any other {name} → a string
//     of at most 200 characters; Idempotency-Key for routes that honour it;
//   - the error responses of every authenticated route: GET → 400 401 404 500 503,
//     other methods → 400 401 403 404 413 415 422 500 503 (GET /v1/me, answered
//     from the token alone → 401 only); route-specific ones (409, 412) stay below.
// Only documented routes are completed: tests/http/protocol_httptest.cpp checks that
// every registered route is documented here and every documented route is
// registered (add both together).
// Split into pieces below 4095 bytes (-Woverlength-strings); joined once.
#include <map>
#include <regex>
#include <set>

#include "http/routes.hpp"

namespace tradesphere::http {
namespace {

constexpr const char* kOpenApiParts[] = {
R"json({
 "openapi": "3.1.0",
 "info": {
  "title": "TradeSphere Customers API",
  "version": "1.0.0",
  "description": "Customer records kept in step with chat conversations. Bearer JWT (HS256) with sub, company_id, role, exp. Every error is RFC 9457 application/problem+json; every response carries X-Request-Id."
 },
 "servers": [
  {
   "url": "http://127.0.0.1:8080"
  }
 ],
 "security": [
  {
   "bearer": []
  }
 ],
 "paths": {
  "/healthz": {
   "get": {
    "summary": "Process alive",
    "responses": {
     "200": {
      "$ref": "#/components/responses/Status"
     }
    }
   }
  },
  "/readyz": {
   "get": {
    "summary": "Database reachable and migrations current",
    "responses": {
     "200": {
      "$ref": "#/components/responses/Status"
     },
     "503": {
      "$ref": "#/components/responses/Status"
     }
    }
   }
  },
  "/metrics": {
   "get": {
    "summary": "Prometheus metrics (requests by route and status, pool, queries, errors, sync, merges; per company: customers by lifecycle stage, duplicate rate, cached 5 s)",
    "responses": {
     "200": {
      "description": "Prometheus text format 0.0.4",
      "content": {
       "text/plain": {
        "schema": {
         "type": "string"
        }
       }
      }
     }
    }
   }
  },
  "/openapi.json": {
   "get": {
    "summary": "This document",
    "responses": {
     "200": {
      "description": "OK",
      "content": {
       "application/json": {
        "schema": {
         "type": "object"
        }
       }
      }
     }
    }
   }
  },
  "/v1/me": {
   "get": {
    "summary": "The caller as the token describes it",
    "x-required-role": "viewer",
    "responses": {
     "200": {
      "description": "OK",
      "content": {
       "application/json": {
        "schema": {
         "$ref": "#/components/schemas/Me"
        }
       }
      }
     }
    }
   }
  },
  "/v1/customers": {
   "get": {
    "summary": "List customers (filters, sort, keyset pagination)",
    "x-required-role": "viewer",
    "responses": {
     "200": {
      "description": "OK",
      "content": {
       "application/json": {
        "schema": {
         "$ref": "#/components/schemas/CustomerPage"
        }
       }
      }
     }
    },
    "parameters": [
     {
      "name": "lifecycle_stage",
      "in": "query",
      "schema": {
       "type": "string"
      },
      "description": "prospect|lead|customer|churned"
     },
     {
      "name": "tags_any",
      "in": "query",
      "schema": {
       "type": "string"
      },
      "description": "comma-separated"
     },
     {
      "name": "tags_all",
      "in": "query",
      "schema": {
       "type": "string"
      },
      "description": "comma-separated"
     },
     {
      "name": "source",
      "in": "query",
      "schema": {
       "type": "string"
      },
      "description": "chat|manual|import|api"
     },
     {
      "name": "created_from",
      "in": "query",
      "schema": {
       "type": "string"
      },
      "description": "ISO-8601"
     },
     {
      "name": "created_to",
      "in": "query",
      "schema": {
       "type": "string"
      },
      "description": "ISO-8601"
     },
     {
      "name": "last_contact_from",
      "in": "query",
      "schema": {
       "type": "string"
      },
      "description": "ISO-8601"
     },
     {
      "name": "last_contact_to",
      "in": "query",
      "schema": {
       "type": "string"
      },
      "description": "ISO-8601"
     },
     {
      "name": "has_email",
      "in": "query",
      "schema": {
       "type": "string"
      },
      "description": "true|false"
     },
     {
      "name": "has_phone",
      "in": "query",
      "schema": {
       "type": "string"
      },
      "description": "true|false"
     },
     {
      "name": "q",
      "in": "query",
      "schema": {
       "type": "string"
      },
      "description": "free text"
     },
     {
      "name": "sort",
)json",
R"json(      "in": "query",
      "schema": {
       "type": "string"
      },
      "description": "name|created_at|last_contact|conversation_count"
     },
     {
      "name": "order",
      "in": "query",
      "schema": {
       "type": "string"
      },
      "description": "asc|desc"
     },
     {
      "name": "include_total",
      "in": "query",
      "schema": {
       "type": "string"
      },
      "description": "true|false"
     },
     {
      "name": "limit",
      "in": "query",
      "schema": {
       "type": "integer",
       "minimum": 1,
       "maximum": 1000,
       "default": 50
      },
      "description": "page size 1..1000; outside → 400 (never clamped)"
     },
     {
      "name": "cursor",
      "in": "query",
      "schema": {
       "type": "string"
      },
      "description": "next_cursor of the previous page; garbage → 400"
     }
    ]
   },
   "post": {
    "summary": "Create a customer",
    "description": "Unknown and read-only fields (id, company_id, version, status, deleted_at, …) are refused with 422 naming them.",
    "x-required-role": "agent",
    "responses": {
     "201": {
      "description": "Created",
      "content": {
       "application/json": {
        "schema": {
         "$ref": "#/components/schemas/Customer"
        }
       }
      },
      "headers": {
       "ETag": {
        "description": "the customer's version, for If-Match",
        "schema": {
         "type": "string"
        }
       },
       "Location": {
        "description": "URL of the created resource",
        "schema": {
         "type": "string"
        }
       }
      }
     }
    },
    "requestBody": {
     "required": true,
     "content": {
      "application/json": {
       "schema": {
        "$ref": "#/components/schemas/NewCustomer"
       }
      }
     }
    }
   }
  },
  "/v1/customers/search": {
   "get": {
    "summary": "Search by name (typo tolerant), email, phone",
    "x-required-role": "viewer",
    "responses": {
     "200": {
      "description": "OK",
      "content": {
       "application/json": {
        "schema": {
         "type": "object",
         "required": [
          "items",
          "next_cursor"
         ],
         "properties": {
          "items": {
           "type": "array",
           "items": {
            "$ref": "#/components/schemas/SearchHit"
           }
          },
          "next_cursor": {
           "type": [
            "string",
            "null"
           ]
          }
         }
        }
       }
      }
     }
    },
    "parameters": [
     {
      "name": "q",
      "in": "query",
      "required": true,
      "schema": {
       "type": "string",
       "maxLength": 200
      }
     },
     {
      "name": "limit",
      "in": "query",
      "schema": {
       "type": "integer",
       "minimum": 1,
       "maximum": 100,
       "default": 50
      },
      "description": "page size 1..100; outside → 400 (never clamped)"
     }
    ]
   }
  },
  "/v1/customers/{id}": {
   "get": {
    "summary": "A customer with its metrics",
    "x-required-role": "viewer",
    "responses": {
     "200": {
      "description": "OK",
      "content": {
       "application/json": {
        "schema": {
         "$ref": "#/components/schemas/CustomerWithMetrics"
        }
       }
      },
      "headers": {
       "ETag": {
        "description": "the customer's version, for If-Match",
        "schema": {
         "type": "string"
        }
       }
      }
     }
    }
   },
   "patch": {
    "summary": "Update fields",
    "description": "With If-Match, a stale version answers 412 and changes nothing.",
    "x-required-role": "agent",
    "responses": {
     "200": {
      "description": "OK",
      "content": {
       "application/json": {
        "schema": {
         "$ref": "#/components/schemas/Customer"
        }
       }
      },
)json",
R"json(      "headers": {
       "ETag": {
        "description": "the customer's version, for If-Match",
        "schema": {
         "type": "string"
        }
       }
      }
     },
     "409": {
      "$ref": "#/components/responses/Conflict"
     },
     "412": {
      "$ref": "#/components/responses/PreconditionFailed"
     }
    },
    "parameters": [
     {
      "$ref": "#/components/parameters/IfMatch"
     }
    ],
    "requestBody": {
     "required": true,
     "content": {
      "application/json": {
       "schema": {
        "$ref": "#/components/schemas/CustomerPatch"
       }
      }
     }
    }
   },
   "delete": {
    "summary": "Soft-delete",
    "x-required-role": "admin",
    "responses": {
     "200": {
      "description": "OK",
      "content": {
       "application/json": {
        "schema": {
         "$ref": "#/components/schemas/Customer"
        }
       }
      }
     },
     "409": {
      "$ref": "#/components/responses/Conflict"
     },
     "412": {
      "$ref": "#/components/responses/PreconditionFailed"
     }
    },
    "parameters": [
     {
      "$ref": "#/components/parameters/IfMatch"
     }
    ]
   }
  },
  "/v1/customers/{id}/restore": {
   "post": {
    "summary": "Restore a soft-deleted customer",
    "x-required-role": "admin",
    "responses": {
     "200": {
      "description": "OK",
      "content": {
       "application/json": {
        "schema": {
         "$ref": "#/components/schemas/Customer"
        }
       }
      }
     }
    }
   }
  },
  "/v1/customers/{id}/conversations": {
   "get": {
    "summary": "Conversations (by session), most recent first",
    "x-required-role": "viewer",
    "responses": {
     "200": {
      "description": "OK",
      "content": {
       "application/json": {
        "schema": {
         "type": "object",
         "required": [
          "items",
          "next_cursor"
         ],
         "properties": {
          "items": {
           "type": "array",
           "items": {
            "$ref": "#/components/schemas/Conversation"
           }
          },
          "next_cursor": {
           "type": [
            "string",
            "null"
           ]
          }
         }
        }
       }
      }
     }
    },
    "parameters": [
     {
      "name": "limit",
      "in": "query",
      "schema": {
       "type": "integer",
       "minimum": 1,
       "maximum": 1000,
       "default": 50
      },
      "description": "page size 1..1000; outside → 400 (never clamped)"
     },
     {
      "name": "cursor",
      "in": "query",
      "schema": {
       "type": "string"
      },
      "description": "next_cursor of the previous page; garbage → 400"
     }
    ]
   }
  },
  "/v1/customers/{id}/timeline": {
   "get": {
    "summary": "Events, conversations and merges, newest first",
    "x-required-role": "viewer",
    "responses": {
     "200": {
      "description": "OK",
      "content": {
       "application/json": {
        "schema": {
         "type": "object",
         "required": [
          "items",
          "next_cursor"
         ],
         "properties": {
          "items": {
           "type": "array",
           "items": {
            "$ref": "#/components/schemas/TimelineEntry"
           }
          },
          "next_cursor": {
           "type": [
            "string",
            "null"
           ]
          }
         }
        }
       }
      }
     }
    },
    "parameters": [
     {
      "name": "limit",
      "in": "query",
      "schema": {
       "type": "integer",
       "minimum": 1,
       "maximum": 500,
       "default": 50
      },
      "description": "page size 1..500; outside → 400 (never clamped)"
     },
     {
      "name": "cursor",
      "in": "query",
      "schema": {
       "type": "string"
      },
      "description": "next_cursor of the previous page; garbage → 400"
     }
)json",
R"json(    ]
   }
  },
  "/v1/customers/{id}/stage": {
   "put": {
    "summary": "Set the lifecycle stage",
    "x-required-role": "agent",
    "responses": {
     "200": {
      "description": "OK",
      "content": {
       "application/json": {
        "schema": {
         "$ref": "#/components/schemas/Customer"
        }
       }
      },
      "headers": {
       "ETag": {
        "description": "the customer's version, for If-Match",
        "schema": {
         "type": "string"
        }
       }
      }
     },
     "409": {
      "$ref": "#/components/responses/Conflict"
     },
     "412": {
      "$ref": "#/components/responses/PreconditionFailed"
     }
    },
    "parameters": [
     {
      "$ref": "#/components/parameters/IfMatch"
     }
    ],
    "requestBody": {
     "required": true,
     "content": {
      "application/json": {
       "schema": {
        "$ref": "#/components/schemas/StageChange"
       }
      }
     }
    }
   }
  },
  "/v1/customers/bulk/stage": {
   "post": {
    "summary": "Set the stage of up to 10,000 customers",
    "x-required-role": "admin",
    "responses": {
     "200": {
      "description": "OK",
      "content": {
       "application/json": {
        "schema": {
         "$ref": "#/components/schemas/BulkStageResult"
        }
       }
      }
     }
    },
    "requestBody": {
     "required": true,
     "content": {
      "application/json": {
       "schema": {
        "$ref": "#/components/schemas/BulkStage"
       }
      }
     }
    }
   }
  },
  "/v1/customers/{id}/tags": {
   "post": {
    "summary": "Add tags",
    "x-required-role": "agent",
    "responses": {
     "200": {
      "description": "OK",
      "content": {
       "application/json": {
        "schema": {
         "$ref": "#/components/schemas/Customer"
        }
       }
      }
     }
    },
    "requestBody": {
     "required": true,
     "content": {
      "application/json": {
       "schema": {
        "$ref": "#/components/schemas/Tags"
       }
      }
     }
    }
   },
   "delete": {
    "summary": "Remove tags",
    "x-required-role": "agent",
    "responses": {
     "200": {
      "description": "OK",
      "content": {
       "application/json": {
        "schema": {
         "$ref": "#/components/schemas/Customer"
        }
       }
      }
     }
    },
    "requestBody": {
     "required": true,
     "content": {
      "application/json": {
       "schema": {
        "$ref": "#/components/schemas/Tags"
       }
      }
     }
    }
   }
  },
  "/v1/customers/{id}/notes": {
   "put": {
    "summary": "Replace the notes (null clears)",
    "x-required-role": "agent",
    "responses": {
     "200": {
      "description": "OK",
      "content": {
       "application/json": {
        "schema": {
         "$ref": "#/components/schemas/Customer"
        }
       }
      },
      "headers": {
       "ETag": {
        "description": "the customer's version, for If-Match",
        "schema": {
         "type": "string"
        }
       }
      }
     },
     "412": {
      "$ref": "#/components/responses/PreconditionFailed"
     }
    },
    "parameters": [
     {
      "$ref": "#/components/parameters/IfMatch"
     }
    ],
    "requestBody": {
     "required": true,
     "content": {
      "application/json": {
       "schema": {
        "$ref": "#/components/schemas/Notes"
       }
      }
     }
    }
   }
  },
  "/v1/customers/{id}/enrich": {
   "post": {
    "summary": "Fill empty fields from the customer's conversations (never overwrites)",
    "x-required-role": "agent",
    "responses": {
     "200": {
      "description": "OK",
      "content": {
       "application/json": {
        "schema": {
         "$ref": "#/components/schemas/EnrichResult"
        }
       }
      }
     }
    }
   }
  },
  "/v1/customers/{id}/summary": {
   "get": {
)json",
R"json(    "summary": "Deterministic extractive summary of the customer's conversations",
    "x-required-role": "viewer",
    "responses": {
     "200": {
      "description": "OK",
      "content": {
       "application/json": {
        "schema": {
         "$ref": "#/components/schemas/ConversationSummary"
        }
       }
      }
     }
    }
   }
  },
  "/v1/chat": {
   "post": {
    "summary": "Ingest one chat row or a batch (1..100); returns the linked customers",
    "description": "Validation errors of a batch name the row index, e.g. 1/session_id. Rows are stored one by one.",
    "x-required-role": "agent",
    "responses": {
     "200": {
      "description": "OK",
      "content": {
       "application/json": {
        "schema": {
         "$ref": "#/components/schemas/ChatIngestResult"
        }
       }
      }
     }
    },
    "requestBody": {
     "required": true,
     "content": {
      "application/json": {
       "schema": {
        "oneOf": [
         {
          "$ref": "#/components/schemas/ChatRecord"
         },
         {
          "type": "array",
          "minItems": 1,
          "maxItems": 100,
          "items": {
           "$ref": "#/components/schemas/ChatRecord"
          }
         }
        ]
       }
      }
     }
    }
   }
  },
  "/v1/conversations/orphaned": {
   "get": {
    "summary": "Chat rows linked to no customer, newest first",
    "x-required-role": "viewer",
    "responses": {
     "200": {
      "description": "OK",
      "content": {
       "application/json": {
        "schema": {
         "type": "object",
         "required": [
          "items",
          "next_cursor"
         ],
         "properties": {
          "items": {
           "type": "array",
           "items": {
            "$ref": "#/components/schemas/ChatRow"
           }
          },
          "next_cursor": {
           "type": [
            "string",
            "null"
           ]
          }
         }
        }
       }
      }
     }
    },
    "parameters": [
     {
      "name": "limit",
      "in": "query",
      "schema": {
       "type": "integer",
       "minimum": 1,
       "maximum": 1000,
       "default": 50
      },
      "description": "page size 1..1000; outside → 400 (never clamped)"
     },
     {
      "name": "cursor",
      "in": "query",
      "schema": {
       "type": "string"
      },
      "description": "next_cursor of the previous page; garbage → 400"
     }
    ]
   }
  },
  "/v1/conversations/{session_id}/link": {
   "post": {
    "summary": "Move every row of a session to a customer",
    "x-required-role": "agent",
    "responses": {
     "200": {
      "description": "OK",
      "content": {
       "application/json": {
        "schema": {
         "$ref": "#/components/schemas/LinkResult"
        }
       }
      }
     }
    },
    "requestBody": {
     "required": true,
     "content": {
      "application/json": {
       "schema": {
        "$ref": "#/components/schemas/LinkRequest"
       }
      }
     }
    }
   }
  },
  "/v1/customers/{id}/duplicates": {
   "get": {
    "summary": "Probable duplicates of one customer, best first (dismissed pairs never)",
    "x-required-role": "viewer",
    "responses": {
     "200": {
      "description": "OK",
      "content": {
       "application/json": {
        "schema": {
         "type": "object",
         "required": [
          "items",
          "next_cursor"
         ],
         "properties": {
          "items": {
           "type": "array",
           "items": {
            "$ref": "#/components/schemas/DuplicateCandidate"
           }
          },
          "next_cursor": {
           "type": [
            "string",
            "null"
           ]
          }
         }
        }
       }
      }
     }
    },
    "parameters": [
     {
      "name": "min_score",
      "in": "query",
      "schema": {
)json",
R"json(       "type": "number",
       "minimum": 0,
       "maximum": 1
      },
      "description": "minimum score (default: the configured threshold)"
     }
    ]
   }
  },
  "/v1/duplicates": {
   "get": {
    "summary": "Groups of probable duplicates over the whole company",
    "x-required-role": "viewer",
    "responses": {
     "200": {
      "description": "OK",
      "content": {
       "application/json": {
        "schema": {
         "type": "object",
         "required": [
          "items",
          "next_cursor"
         ],
         "properties": {
          "items": {
           "type": "array",
           "items": {
            "$ref": "#/components/schemas/DuplicateGroup"
           }
          },
          "total_groups": {
           "type": "integer",
           "description": "groups in the company at this min_score (items holds the first `limit`, strongest first)"
          },
          "next_cursor": {
           "type": [
            "string",
            "null"
           ]
          }
         }
        }
       }
      }
     }
    },
    "parameters": [
     {
      "name": "min_score",
      "in": "query",
      "schema": {
       "type": "number",
       "minimum": 0,
       "maximum": 1
      },
      "description": "minimum score (default: the configured threshold)"
     },
     {
      "name": "limit",
      "in": "query",
      "schema": {
       "type": "integer",
       "minimum": 1,
       "maximum": 1000,
       "default": 100
      },
      "description": "groups to return, strongest first"
     }
    ]
   }
  },
  "/v1/duplicates/dismiss": {
   "post": {
    "summary": "Mark a pair as not a duplicate (never proposed again)",
    "x-required-role": "agent",
    "responses": {
     "200": {
      "description": "OK",
      "content": {
       "application/json": {
        "schema": {
         "$ref": "#/components/schemas/DismissResult"
        }
       }
      }
     }
    },
    "requestBody": {
     "required": true,
     "content": {
      "application/json": {
       "schema": {
        "$ref": "#/components/schemas/DismissRequest"
       }
      }
     }
    }
   }
  },
  "/v1/merges/preview": {
   "post": {
    "summary": "Field-by-field preview of a merge",
    "x-required-role": "viewer",
    "responses": {
     "200": {
      "description": "OK",
      "content": {
       "application/json": {
        "schema": {
         "$ref": "#/components/schemas/MergePreview"
        }
       }
      }
     }
    },
    "requestBody": {
     "required": true,
     "content": {
      "application/json": {
       "schema": {
        "$ref": "#/components/schemas/MergePreviewRequest"
       }
      }
     }
    }
   }
  },
  "/v1/merges": {
   "post": {
    "summary": "Merge sources into a target (N-way)",
    "x-required-role": "admin",
    "responses": {
     "201": {
      "description": "Created",
      "content": {
       "application/json": {
        "schema": {
         "$ref": "#/components/schemas/MergeResult"
        }
       }
      },
      "headers": {
       "Location": {
        "description": "URL of the created resource",
        "schema": {
         "type": "string"
        }
       }
      }
     },
     "409": {
      "$ref": "#/components/responses/Conflict"
     }
    },
    "requestBody": {
     "required": true,
     "content": {
      "application/json": {
       "schema": {
        "$ref": "#/components/schemas/MergeRequest"
       }
      }
     }
    }
   }
  },
  "/v1/merges/{id}": {
   "get": {
    "summary": "A merge: target, sources, choices, whether undone",
    "x-required-role": "viewer",
    "responses": {
     "200": {
      "description": "OK",
      "content": {
       "application/json": {
        "schema": {
         "$ref": "#/components/schemas/Merge"
        }
       }
      }
     }
    }
   }
  },
  "/v1/merges/{id}/undo": {
   "post": {
    "summary": "Undo a merge exactly",
    "x-required-role": "admin",
    "responses": {
     "200": {
      "description": "OK",
      "content": {
       "application/json": {
        "schema": {
         "$ref": "#/components/schemas/UndoResult"
        }
       }
      }
     },
     "409": {
      "$ref": "#/components/responses/Conflict"
     }
    }
   }
  }
 },
 "components": {
  "securitySchemes": {
   "bearer": {
)json",
R"json(    "type": "http",
    "scheme": "bearer",
    "bearerFormat": "JWT"
   }
  },
  "parameters": {
   "Id": {
    "name": "id",
    "in": "path",
    "required": true,
    "schema": {
     "type": "string",
     "format": "uuid"
    }
   },
   "IfMatch": {
    "name": "If-Match",
    "in": "header",
    "schema": {
     "type": "string"
    },
    "description": "the ETag (version) last read; stale → 412"
   },
   "IdempotencyKey": {
    "name": "Idempotency-Key",
    "in": "header",
    "schema": {
     "type": "string",
     "maxLength": 200
    },
    "description": "a retry with the same key returns the first response and changes nothing; the same key with another body → 422"
   }
  },
  "schemas": {
   "Problem": {
    "type": "object",
    "required": [
     "type",
     "title",
     "status",
     "detail",
     "instance"
    ],
    "properties": {
     "type": {
      "type": "string"
     },
     "title": {
      "type": "string"
     },
     "status": {
      "type": "integer"
     },
     "detail": {
      "type": "string"
     },
     "instance": {
      "type": "string",
      "description": "the correlation id (X-Request-Id)"
     },
     "errors": {
      "type": "array",
      "items": {
       "type": "object",
       "required": [
        "field",
        "reason"
       ],
       "properties": {
        "field": {
         "type": "string"
        },
        "reason": {
         "type": "string"
        }
       }
      }
     }
    }
   },
   "Me": {
    "type": "object",
    "properties": {
     "user_id": {
      "type": "string"
     },
     "company_id": {
      "type": "string"
     },
     "role": {
      "enum": [
       "viewer",
       "agent",
       "admin"
      ]
     }
    }
   },
   "Stage": {
    "enum": [
     "prospect",
     "lead",
     "customer",
     "churned"
    ]
   },
   "Customer": {
    "type": "object",
    "properties": {
     "external_id": {
      "type": [
       "string",
       "null"
      ]
     },
     "name": {
      "type": [
       "string",
       "null"
      ]
     },
     "email": {
      "type": [
       "string",
       "null"
      ]
     },
     "phone": {
      "type": [
       "string",
       "null"
      ]
     },
     "address": {
      "type": [
       "string",
       "null"
      ]
     },
     "notes": {
      "type": [
       "string",
       "null"
      ]
     },
     "merged_into_customer_id": {
      "type": [
       "string",
       "null"
      ]
     },
     "deleted_at": {
      "type": [
       "string",
       "null"
      ]
     },
     "created_by": {
      "type": [
       "string",
       "null"
      ]
     },
     "updated_by": {
      "type": [
       "string",
       "null"
      ]
     },
     "id": {
      "type": "string",
      "format": "uuid"
     },
     "company_id": {
      "type": "string",
      "format": "uuid"
     },
     "attributes": {
      "type": "object"
     },
     "lifecycle_stage": {
      "$ref": "#/components/schemas/Stage"
     },
     "tags": {
      "type": "array",
      "items": {
       "type": "string"
      }
     },
     "source": {
      "enum": [
       "chat",
       "manual",
       "import",
       "api"
      ]
     },
     "status": {
      "enum": [
       "active",
       "deleted",
       "merged"
      ]
     },
     "created_at": {
      "type": "string",
      "format": "date-time"
     },
     "updated_at": {
      "type": "string",
      "format": "date-time"
     },
     "version": {
      "type": "integer"
     }
    }
   },
   "Metrics": {
    "type": "object",
    "properties": {
     "conversation_count": {
      "type": "integer"
     },
     "message_count": {
      "type": "integer"
     },
     "first_contact_at": {
      "type": [
       "string",
       "null"
      ]
     },
     "last_contact_at": {
      "type": [
       "string",
       "null"
      ]
     },
)json",
R"json(     "last_message_preview": {
      "type": [
       "string",
       "null"
      ]
     }
    }
   },
   "CustomerWithMetrics": {
    "allOf": [
     {
      "$ref": "#/components/schemas/Customer"
     },
     {
      "type": "object",
      "properties": {
       "metrics": {
        "$ref": "#/components/schemas/Metrics"
       }
      }
     }
    ]
   },
   "CustomerPage": {
    "allOf": [
     {
      "type": "object",
      "required": [
       "items",
       "next_cursor"
      ],
      "properties": {
       "items": {
        "type": "array",
        "items": {
         "$ref": "#/components/schemas/CustomerWithMetrics"
        }
       },
       "next_cursor": {
        "type": [
         "string",
         "null"
        ]
       }
      }
     },
     {
      "type": "object",
      "properties": {
       "total": {
        "type": "integer"
       }
      }
     }
    ]
   },
   "SearchHit": {
    "allOf": [
     {
      "$ref": "#/components/schemas/CustomerWithMetrics"
     },
     {
      "type": "object",
      "properties": {
       "score": {
        "type": "number"
       },
       "matched": {
        "type": "array",
        "items": {
         "type": "string"
        }
       }
      }
     }
    ]
   },
   "NewCustomer": {
    "type": "object",
    "additionalProperties": false,
    "properties": {
     "external_id": {
      "type": [
       "string",
       "null"
      ]
     },
     "name": {
      "type": [
       "string",
       "null"
      ]
     },
     "email": {
      "type": [
       "string",
       "null"
      ]
     },
     "phone": {
      "type": [
       "string",
       "null"
      ]
     },
     "address": {
      "type": [
       "string",
       "null"
      ]
     },
     "notes": {
      "type": [
       "string",
       "null"
      ]
     },
     "attributes": {
      "type": "object"
     },
     "lifecycle_stage": {
      "$ref": "#/components/schemas/Stage"
     },
     "tags": {
      "type": "array",
      "items": {
       "type": "string"
      }
     },
     "source": {
      "enum": [
       "manual",
       "import",
       "api"
      ]
     }
    },
    "description": "at least one of name, email, phone, external_id"
   },
   "CustomerPatch": {
    "type": "object",
    "additionalProperties": false,
    "properties": {
     "external_id": {
      "type": [
       "string",
       "null"
      ]
     },
     "name": {
      "type": [
       "string",
       "null"
      ]
     },
     "email": {
      "type": [
       "string",
       "null"
      ]
     },
     "phone": {
      "type": [
       "string",
       "null"
      ]
     },
     "address": {
      "type": [
       "string",
       "null"
      ]
     },
     "notes": {
      "type": [
       "string",
       "null"
      ]
     },
     "attributes": {
      "type": "object"
     },
     "lifecycle_stage": {
      "$ref": "#/components/schemas/Stage"
     },
     "tags": {
      "type": "array",
      "items": {
       "type": "string"
      }
     }
    }
   },
   "StageChange": {
    "type": "object",
    "additionalProperties": false,
    "required": [
     "lifecycle_stage"
    ],
    "properties": {
     "lifecycle_stage": {
      "$ref": "#/components/schemas/Stage"
     }
    }
   },
   "BulkStage": {
    "type": "object",
    "additionalProperties": false,
    "required": [
     "customer_ids",
     "lifecycle_stage"
    ],
    "properties": {
     "customer_ids": {
      "type": "array",
      "maxItems": 10000,
      "items": {
       "type": "string",
       "format": "uuid"
      }
     },
     "lifecycle_stage": {
      "$ref": "#/components/schemas/Stage"
     }
    }
   },
   "BulkStageResult": {
    "type": "object",
    "properties": {
     "updated": {
      "type": "integer"
     },
     "unchanged": {
      "type": "integer"
     },
     "not_found": {
      "type": "array",
)json",
R"json(      "items": {
       "type": "string"
      }
     }
    }
   },
   "Tags": {
    "type": "object",
    "additionalProperties": false,
    "required": [
     "tags"
    ],
    "properties": {
     "tags": {
      "type": "array",
      "maxItems": 50,
      "items": {
       "type": "string"
      }
     }
    }
   },
   "Notes": {
    "type": "object",
    "additionalProperties": false,
    "required": [
     "notes"
    ],
    "properties": {
     "notes": {
      "type": [
       "string",
       "null"
      ]
     }
    }
   },
   "EnrichResult": {
    "type": "object",
    "properties": {
     "customer_id": {
      "type": "string"
     },
     "changes": {
      "type": "array",
      "items": {
       "type": "object",
       "properties": {
        "field": {
         "type": "string"
        },
        "value": {
         "type": "string"
        },
        "session_id": {
         "type": "string"
        },
        "message_id": {
         "type": "integer"
        }
       }
      }
     },
     "completeness_before": {
      "type": "number"
     },
     "completeness_after": {
      "type": "number"
     }
    }
   },
   "ConversationSummary": {
    "type": "object",
    "properties": {
     "customer_id": {
      "type": "string"
     },
     "sessions": {
      "type": "integer"
     },
     "messages": {
      "type": "integer"
     },
     "first_at": {
      "type": [
       "string",
       "null"
      ]
     },
     "last_at": {
      "type": [
       "string",
       "null"
      ]
     },
     "top_terms": {
      "type": "array",
      "items": {
       "type": "string"
      }
     },
     "open_questions": {
      "type": "array",
      "items": {
       "type": "string"
      }
     },
     "last_user_message": {
      "type": [
       "string",
       "null"
      ]
     },
     "last_ai_response": {
      "type": [
       "string",
       "null"
      ]
     },
     "text": {
      "type": "string"
     }
    }
   },
   "ChatRecord": {
    "type": "object",
    "additionalProperties": false,
    "required": [
     "session_id",
     "tech_id",
     "user_message",
     "ai_response"
    ],
    "properties": {
     "session_id": {
      "type": "string"
     },
     "tech_id": {
      "type": "string"
     },
     "customer_name": {
      "type": [
       "string",
       "null"
      ]
     },
     "customer_email": {
      "type": [
       "string",
       "null"
      ]
     },
     "customer_phone": {
      "type": [
       "string",
       "null"
      ]
     },
     "user_message": {
      "type": "string"
     },
     "ai_response": {
      "type": "string"
     },
     "created_at": {
      "type": [
       "string",
       "null"
      ]
     }
    }
   },
   "ChatIngestResult": {
    "type": "object",
    "properties": {
     "items": {
      "type": "array",
      "items": {
       "type": "object",
       "properties": {
        "chat_row_id": {
         "type": "integer"
        },
        "customer_id": {
         "type": [
          "string",
          "null"
         ]
        }
       }
      }
     },
     "customer_ids": {
      "type": "array",
      "items": {
       "type": "string"
      }
     }
    }
   },
   "Conversation": {
    "type": "object",
    "properties": {
     "session_key": {
      "type": "string"
     },
     "session_id": {
      "type": [
       "string",
       "null"
      ]
     },
     "first_message_at": {
      "type": "string"
     },
     "last_message_at": {
      "type": "string"
     },
     "message_count": {
      "type": "integer"
     },
     "last_user_message": {
      "type": [
       "string",
       "null"
      ]
     },
     "last_ai_response": {
      "type": [
       "string",
       "null"
      ]
     }
    }
   },
   "ChatRow": {
    "type": "object",
    "properties": {
     "id": {
      "type": "integer"
     },
)json",
R"json(     "session_id": {
      "type": [
       "string",
       "null"
      ]
     },
     "tech_id": {
      "type": [
       "string",
       "null"
      ]
     },
     "customer_name": {
      "type": [
       "string",
       "null"
      ]
     },
     "customer_email": {
      "type": [
       "string",
       "null"
      ]
     },
     "customer_phone": {
      "type": [
       "string",
       "null"
      ]
     },
     "user_message": {
      "type": [
       "string",
       "null"
      ]
     },
     "ai_response": {
      "type": [
       "string",
       "null"
      ]
     },
     "customer_id": {
      "type": [
       "string",
       "null"
      ]
     },
     "created_at": {
      "type": "string"
     }
    }
   },
   "TimelineEntry": {
    "type": "object",
    "properties": {
     "kind": {
      "enum": [
       "event",
       "conversation",
       "merge"
      ]
     },
     "id": {
      "type": "string"
     },
     "type": {
      "type": "string"
     },
     "at": {
      "type": "string"
     },
     "data": {
      "type": "object"
     }
    }
   },
   "LinkRequest": {
    "type": "object",
    "additionalProperties": false,
    "required": [
     "customer_id"
    ],
    "properties": {
     "customer_id": {
      "type": "string",
      "format": "uuid"
     }
    }
   },
   "LinkResult": {
    "type": "object",
    "properties": {
     "session_id": {
      "type": "string"
     },
     "customer_id": {
      "type": "string"
     },
     "moved_rows": {
      "type": "integer"
     },
     "previous_customer_ids": {
      "type": "array",
      "items": {
       "type": "string"
      }
     }
    }
   },
   "MergePreviewRequest": {
    "type": "object",
    "additionalProperties": false,
    "required": [
     "target_id",
     "source_ids"
    ],
    "properties": {
     "target_id": {
      "type": "string",
      "format": "uuid"
     },
     "source_ids": {
      "type": "array",
      "minItems": 1,
      "maxItems": 50,
      "items": {
       "type": "string",
       "format": "uuid"
      }
     }
    }
   },
   "MergeRequest": {
    "type": "object",
    "additionalProperties": false,
    "required": [
     "target_id",
     "source_ids"
    ],
    "properties": {
     "target_id": {
      "type": "string",
      "format": "uuid"
     },
     "source_ids": {
      "type": "array",
      "minItems": 1,
      "maxItems": 50,
      "items": {
       "type": "string",
       "format": "uuid"
      }
     },
     "field_choices": {
      "type": "object",
      "additionalProperties": {
       "type": [
        "string",
        "null"
       ]
      },
      "description": "field -> value (null clears); other fields take the proposal"
     }
    }
   },
   "MergePreview": {
    "type": "object",
    "properties": {
     "target_id": {
      "type": "string"
     },
     "source_ids": {
      "type": "array",
      "items": {
       "type": "string"
      }
     },
     "fields": {
      "type": "array",
      "items": {
       "type": "object"
      }
     },
     "moves": {
      "type": "object",
      "additionalProperties": {
       "type": "integer"
      }
     }
    }
   },
   "MergeResult": {
    "type": "object",
    "properties": {
     "merge_id": {
      "type": "string"
     },
     "target_id": {
      "type": "string"
     },
     "source_ids": {
      "type": "array",
      "items": {
       "type": "string"
      }
     },
     "moved": {
      "type": "object",
      "additionalProperties": {
       "type": "integer"
      }
     }
    }
   },
   "DuplicateMember": {
    "type": "object",
    "properties": {
     "id": {
      "type": "string"
     },
     "external_id": {
      "type": [
       "string",
       "null"
      ]
     },
     "name": {
      "type": [
       "string",
       "null"
      ]
     }
    }
   },
   "DuplicateCandidate": {
    "allOf": [
)json",
R"json(     {
      "$ref": "#/components/schemas/DuplicateMember"
     },
     {
      "type": "object",
      "properties": {
       "score": {
        "type": "number"
       },
       "reasons": {
        "type": "array",
        "items": {
         "type": "string"
        }
       },
       "explanation": {
        "type": "string",
        "description": "the evidence as text: \"surname exact +7.2, address full address +10.7, phone differs -2.0\""
       },
       "evidence": {
        "type": "array",
        "items": {
         "$ref": "#/components/schemas/DuplicateEvidence"
        }
       }
      }
     }
    ]
   },
   "DuplicateEvidence": {
    "type": "object",
    "required": ["comparison", "level", "weight"],
    "properties": {
     "comparison": {"type": "string", "description": "given_name, surname, email, phone, address or guard"},
     "level": {"type": "string", "description": "the comparison level, e.g. exact, jaro-winkler >= 0.92, differs"},
     "weight": {"type": "number", "description": "log2 odds this comparison added (term frequency included)"},
     "detail": {"type": "string", "description": "rare value, common value, given name and surname swapped"}
    }
   },
   "DuplicatePair": {
    "type": "object",
    "properties": {
     "a": {"type": "string", "format": "uuid"},
     "b": {"type": "string", "format": "uuid"},
     "score": {"type": "number"},
     "explanation": {"type": "string"},
     "evidence": {"type": "array", "items": {"$ref": "#/components/schemas/DuplicateEvidence"}}
    }
   },
   "DuplicateGroup": {
    "type": "object",
    "properties": {
     "score": {
      "type": "number"
     },
     "reasons": {
      "type": "array",
      "items": {
       "type": "string"
      }
     },
     "customers": {
      "type": "array",
      "items": {
       "$ref": "#/components/schemas/DuplicateMember"
      }
     },
     "pairs": {
      "type": "array",
      "description": "the pairs that join the group (a spanning tree), strongest first, each with its evidence",
      "items": {
       "$ref": "#/components/schemas/DuplicatePair"
      }
     }
    }
   },
   "DismissRequest": {
    "type": "object",
    "additionalProperties": false,
    "required": [
     "customer_ids"
    ],
    "properties": {
     "customer_ids": {
      "type": "array",
      "minItems": 2,
      "maxItems": 2,
      "items": {
       "type": "string",
       "format": "uuid"
      }
     },
     "reason": {
      "type": [
       "string",
       "null"
      ]
     }
    }
   },
   "DismissResult": {
    "type": "object",
    "properties": {
     "customer_ids": {
      "type": "array",
      "items": {
       "type": "string"
      }
     },
     "dismissed": {
      "type": "boolean"
     },
     "already_dismissed": {
      "type": "boolean"
     }
    }
   },
   "Merge": {
    "type": "object",
    "properties": {
     "merge_id": {
      "type": "string"
     },
     "target_id": {
      "type": "string"
     },
     "source_ids": {
      "type": "array",
      "items": {
       "type": "string"
      }
     },
     "field_choices": {
      "type": [
       "object",
       "null"
      ]
     },
     "actor": {
      "type": [
       "string",
       "null"
      ]
     },
     "created_at": {
      "type": "string"
     },
     "undone_at": {
      "type": [
       "string",
       "null"
      ]
     },
     "status": {
      "enum": [
       "applied",
       "undone"
      ]
     }
    }
   },
   "UndoResult": {
    "type": "object",
    "properties": {
     "merge_id": {
      "type": "string"
     },
     "target_id": {
      "type": "string"
     },
     "source_ids": {
      "type": "array",
      "items": {
       "type": "string"
      }
     },
     "undone": {
      "type": "boolean"
     }
    }
   }
  },
  "responses": {
   "Status": {
    "description": "status",
    "content": {
     "application/json": {
      "schema": {
       "type": "object"
      }
     }
    }
   },
   "BadRequest": {
    "description": "malformed request: JSON syntax, duplicate keys, nesting deeper than 32, U+0000, invalid UTF-8, bad query parameters (limit, cursor)",
    "content": {
     "application/problem+json": {
      "schema": {
       "$ref": "#/components/schemas/Problem"
      }
     }
    }
   },
   "Unauthorized": {
    "description": "missing, malformed, expired or wrongly signed token (no detail given)",
    "content": {
     "application/problem+json": {
      "schema": {
       "$ref": "#/components/schemas/Problem"
      }
     }
    }
   },
   "Forbidden": {
    "description": "the token's role may not do this",
    "content": {
     "application/problem+json": {
      "schema": {
       "$ref": "#/components/schemas/Problem"
      }
     }
    }
   },
   "NotFound": {
    "description": "no such resource in the caller's company (another company's id answers the same)",
    "content": {
     "application/problem+json": {
      "schema": {
       "$ref": "#/components/schemas/Problem"
      }
     }
    }
   },
   "Conflict": {
    "description": "conflicts with the current state (unique email, already merged, undone twice, version without If-Match)",
    "content": {
     "application/problem+json": {
      "schema": {
       "$ref": "#/components/schemas/Problem"
      }
     }
    }
   },
   "PreconditionFailed": {
)json",
R"json(    "description": "If-Match names a stale version; nothing changed",
    "content": {
     "application/problem+json": {
      "schema": {
       "$ref": "#/components/schemas/Problem"
      }
     }
    }
   },
   "PayloadTooLarge": {
    "description": "body larger than 1 MiB",
    "content": {
     "application/problem+json": {
      "schema": {
       "$ref": "#/components/schemas/Problem"
      }
     }
    }
   },
   "UnsupportedMediaType": {
    "description": "body not sent as application/json",
    "content": {
     "application/problem+json": {
      "schema": {
       "$ref": "#/components/schemas/Problem"
      }
     }
    }
   },
   "Unprocessable": {
    "description": "well-formed but invalid: errors[] names the fields (validation), or a business rule refused it",
    "content": {
     "application/problem+json": {
      "schema": {
       "$ref": "#/components/schemas/Problem"
      }
     }
    }
   },
   "Internal": {
    "description": "unexpected failure; details are only logged",
    "content": {
     "application/problem+json": {
      "schema": {
       "$ref": "#/components/schemas/Problem"
      }
     }
    }
   },
   "Unavailable": {
    "description": "database unavailable or statement timeout; retry (Retry-After)",
    "content": {
     "application/problem+json": {
      "schema": {
       "$ref": "#/components/schemas/Problem"
      }
     }
    }
   }
  }
 }
}
)json"
};

using ojson = nlohmann::ordered_json;

ojson response_ref(const std::string& name) { return {{"$ref", "#/components/responses/" + name}}; }

const std::map<std::string, std::string>& error_responses() {
  static const std::map<std::string, std::string> names = {
      {"400", "BadRequest"},      {"401", "Unauthorized"},         {"403", "Forbidden"},
      {"404", "NotFound"},        {"413", "PayloadTooLarge"},      {"415", "UnsupportedMediaType"},
      {"422", "Unprocessable"},   {"500", "Internal"},             {"503", "Unavailable"}};
  return names;
}

std::vector<std::string> common_errors(const Route& route) {
  if (route.access == Access::kPublic) return {};
  if (route.method == "GET" && route.pattern == "/v1/me") return {"401"};
  if (route.method == "GET") return {"400", "401", "404", "500", "503"};
  return {"400", "401", "403", "404", "413", "415", "422", "500", "503"};
}

// Adds the shared parts of one documented operation (see the top of this file).
void complete_operation(ojson& op, const Route& route) {
  if (route.access == Access::kPublic) {
    op["security"] = ojson::array();
  } else {
    const std::string role = std::string("Role: ") + to_string(route.access) + ".";
    const std::string own = op.contains("description") ? op["description"].get<std::string>() : "";
    op["description"] = own.empty() ? role : own + " " + role;
  }

  ojson params = ojson::array();
  static const std::regex kPathParam(R"(\{([^}]+)\})");
  for (auto it = std::sregex_iterator(route.pattern.begin(), route.pattern.end(), kPathParam);
       it != std::sregex_iterator(); ++it) {
    const std::string name = (*it)[1];
    if (name == "id") {
      params.push_back({{"$ref", "#/components/parameters/Id"}});
    } else {
      params.push_back({{"name", name}, {"in", "path"}, {"required", true},
                        {"schema", {{"type", "string"}, {"maxLength", 200}}}});
    }
  }
  if (op.contains("parameters")) {
    for (const auto& p : op["parameters"]) params.push_back(p);
  }
  if (route.idempotency_key) params.push_back({{"$ref", "#/components/parameters/IdempotencyKey"}});
  if (!params.empty()) op["parameters"] = std::move(params);

  // Responses by status code: the operation's own, then the shared errors.
  std::map<std::string, ojson> responses;
  for (const auto& [code, r] : op["responses"].items()) responses[code] = r;
  for (const auto& code : common_errors(route)) {
    responses.emplace(code, response_ref(error_responses().at(code)));
  }
  ojson ordered = ojson::object();
  for (auto& [code, r] : responses) ordered[code] = std::move(r);
  op["responses"] = std::move(ordered);
}

std::string lower(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

// GET /v1/merges (the console's merge history), kept apart from the big document above.
constexpr const char* kListMergesOperation = R"json({
 "operationId": "listMerges",
 "summary": "The company's merges, newest first (merge history)",
 "x-required-role": "viewer",
 "parameters": [
  {"name": "limit", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": 200, "default": 50},
   "description": "page size 1..200; outside → 400 (never clamped)"},
  {"name": "cursor", "in": "query", "schema": {"type": "string"}, "description": "next_cursor of the previous page"}
 ],
 "responses": {
  "200": {
   "description": "OK",
   "content": {"application/json": {"schema": {
    "type": "object", "required": ["items", "next_cursor"],
    "properties": {"items": {"type": "array", "items": {"$ref": "#/components/schemas/Merge"}},
                   "next_cursor": {"type": ["string", "null"]}}}}}
  }
 }
})json";

}  // namespace

std::string openapi_document(const RouteTable& table) {
  std::string text;
  for (const char* part : kOpenApiParts) text += part;
  ojson doc = ojson::parse(text);
  auto& paths = doc["paths"];
  paths["/v1/merges"]["get"] = ojson::parse(kListMergesOperation);
  for (const auto& route : table.routes()) {
    if (!paths.contains(route.pattern)) continue;
    auto& item = paths[route.pattern];
    const std::string method = lower(route.method);
    if (item.contains(method)) complete_operation(item[method], route);
  }
  return doc.dump(1);
}

}  // namespace tradesphere::http
