// `migrate adopt`'s view of a real legacy database: every difference from the
// shape of migration 0001, classified as normalized (a do/undo step of the plan),
// kept (reported) or blocking (refused, with the fix). docs/upgrade.md, "What
// adopt accepts", is the operator's table of the same rules.
//
// The SQL of a step is built here, at adopt time, from fixed templates with quoted
// identifiers and literals only; it is stored in legacy_normalization, printed to
// the operator, and run by the migration runner inside the transaction of 0002
// (undo: inside the transaction that reverts 0002). Nothing runs at server start.
// Like a repository, every function here runs in the caller's transaction: the
// jobs (legacy_adopt.cpp) and the migration runner open and commit it.
#include "db/legacy_normalization.hpp"

#include <map>
#include <optional>
#include <regex>
#include <set>

#include <pqxx/pqxx>

#include "db/legacy_upgrade.hpp"
#include "db/migrations.hpp"

namespace tradesphere::db {
namespace {

struct ColumnSpec {
  const char* name;
  const char* type;          // as format_type() prints the baseline's type
  bool not_null;
  const char* default_sql;   // nullptr: none; "" for the serial id (a sequence)
};

struct TableSpec {
  const char* name;          // bare name
  const char* key;           // primary key column
  std::vector<ColumnSpec> columns;
  std::vector<const char*> added_later;  // columns later migrations add (an extra column may not take the name)
};

const std::vector<TableSpec>& baseline() {
  static const std::vector<TableSpec> tables = {
      {"companies",
       "id",
       {{"id", "uuid", true, "gen_random_uuid()"}, {"slug", "text", true, nullptr}, {"name", "text", true, nullptr}},
       {"default_country_code"}},
      {"app_users",
       "tech_id",
       {{"tech_id", "text", true, nullptr}, {"company_id", "uuid", true, nullptr}, {"role", "text", true, "'agent'::text"}},
       {}},
      {"VC Usage",
       "id",
       {{"id", "bigint", true, ""},
        {"session_id", "text", false, nullptr},
        {"tech_id", "text", false, nullptr},
        {"customer_name", "text", false, nullptr},
        {"customer_email", "text", false, nullptr},
        {"customer_phone", "text", false, nullptr},
        {"user_message", "text", false, nullptr},
        {"ai_response", "text", false, nullptr},
        {"created_at", "timestamp with time zone", true, "now()"}},
       {"company_id", "customer_id"}},
      {"customers",
       "id",
       {{"id", "uuid", true, "gen_random_uuid()"},
        {"company_id", "uuid", false, nullptr},
        {"name", "text", false, nullptr},
        {"email", "text", false, nullptr},
        {"phone", "text", false, nullptr},
        {"created_at", "timestamp with time zone", true, "now()"}},
       {"external_id", "address", "notes", "attributes", "lifecycle_stage", "tags", "source", "status",
        "merged_into_customer_id", "deleted_at", "updated_at", "created_by", "updated_by", "version"}},
  };
  return tables;
}

constexpr const char* kVcUsageSequence = "VC Usage_id_seq";

struct FoundColumn {
  int attnum = 0;
  std::string type;       // format_type
  std::string base_type;  // atttypid::regtype
  bool not_null = false;
  std::optional<std::string> default_sql;
  bool identity = false;
};

class Analyzer {
 public:
  explicit Analyzer(pqxx::transaction_base& tx) : tx_(tx) {}

  std::vector<ShapeDifference> run() {
    for (const auto& t : baseline()) table(t);
    return std::move(out_);
  }

 private:
  std::string q(const std::string& ident) { return tx_.quote_name(ident); }
  // A SQL string literal (standard_conforming_strings is on since PostgreSQL 9.1).
  static std::string lit(const std::string& v) {
    std::string out;
    out.reserve(v.size() + 2);
    out.push_back('\'');
    for (char ch : v) {
      if (ch == '\'') out.push_back('\'');
      out.push_back(ch);
    }
    out.push_back('\'');
    return out;
  }
  std::int64_t count(const std::string& sql) { return tx_.exec(sql)[0][0].as<std::int64_t>(); }

  void add(ShapeClass kind, std::string subject, std::string finding, std::string action, std::string do_sql = {},
           std::string undo_sql = {}) {
    out_.push_back({kind, std::move(subject), std::move(finding), std::move(action), std::move(do_sql),
                    std::move(undo_sql)});
  }

  void table(const TableSpec& t) {
    const std::string name = t.name;
    const std::string label = "\"" + name + "\"";
    const std::string tq = q(name);
    auto rel = tx_.exec_params(
        "SELECT c.oid::bigint FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
        "WHERE n.nspname = 'public' AND c.relname = $1 AND c.relkind IN ('r', 'p')",
        name);
    if (rel.empty()) {
      add(ShapeClass::kBlocking, label, "missing table",
          "restore the table (a legacy deployment has companies, app_users, \"VC Usage\" and customers)");
      return;
    }
    const auto oid = rel[0][0].as<std::int64_t>();
    std::map<std::string, FoundColumn> found;
    for (const auto& r : tx_.exec_params(
             "SELECT a.attname, a.attnum, format_type(a.atttypid, a.atttypmod), a.atttypid::regtype::text, "
             "a.attnotnull, pg_get_expr(d.adbin, d.adrelid), a.attidentity <> '' "
             "FROM pg_attribute a LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum "
             "WHERE a.attrelid = $1::oid AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum",
             oid)) {
      FoundColumn c;
      c.attnum = r[1].as<int>();
      c.type = r[2].as<std::string>();
      c.base_type = r[3].as<std::string>();
      c.not_null = r[4].as<bool>();
      if (!r[5].is_null()) c.default_sql = r[5].as<std::string>();
      c.identity = r[6].as<bool>();
      found[r[0].as<std::string>()] = c;
    }

    // 1. Missing columns block; exact duplicate rows of the key are parked, other duplicates block.
    bool complete = true;
    for (const auto& col : t.columns) {
      if (!found.count(col.name)) {
        complete = false;
        add(ShapeClass::kBlocking, label + "." + col.name, std::string("missing column (expected ") + col.type + ")",
            "restore the column with its data; adopt cannot invent legacy values");
      }
    }
    for (const auto& [col, c] : found) {
      bool known = false;
      for (const auto& spec : t.columns) known = known || col == spec.name;
      if (known) continue;
      bool collides = false;
      for (const auto* later : t.added_later) collides = collides || col == later;
      if (collides) {
        add(ShapeClass::kBlocking, label + "." + col, "unexpected column (" + c.type + ")",
            "the upgrade adds a column of this name: rename it (ALTER TABLE " + tq + " RENAME COLUMN " + q(col) +
                " TO " + q("legacy_" + col) + ")");
      } else if (c.not_null && !c.default_sql && !c.identity) {
        add(ShapeClass::kBlocking, label + "." + col, "unexpected column (" + c.type + ") NOT NULL without a default",
            "rows the new schema inserts could not fill it: give it a default (ALTER TABLE " + tq + " ALTER COLUMN " +
                q(col) + " SET DEFAULT …) or drop NOT NULL");
      } else {
        add(ShapeClass::kKept, label + "." + col, "unexpected column (" + c.type + ")",
            "kept as it is; the upgrade neither reads nor changes it (its values are not part of the snapshot)");
      }
    }
    if (!complete) return;

    const std::string key = t.key;
    const std::string kq = q(key);
    bool has_pkey = false;
    std::optional<std::string> pkey_name;
    for (const auto& r : tx_.exec_params(
             "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint WHERE conrelid = $1::oid AND contype = 'p'",
             oid)) {
      has_pkey = true;
      const auto shown = tx_.exec_params("SELECT quote_ident($1)", key)[0][0].as<std::string>();  // as pg_get_constraintdef prints it
      if (r[1].as<std::string>() == "PRIMARY KEY (" + shown + ")") pkey_name = r[0].as<std::string>();
    }
    if (has_pkey && !pkey_name) {
      add(ShapeClass::kBlocking, label + " (primary key)", "primary key on other columns than " + key,
          "make (" + key + ") the primary key, or ask for help: the chat and customer keys of the upgrade rely on it");
      return;
    }
    std::int64_t parked_step_rows = 0;
    if (!pkey_name) {
      const auto null_keys = count("SELECT count(*) FROM " + tq + " WHERE " + kq + " IS NULL");
      if (null_keys > 0) {
        add(ShapeClass::kBlocking, label + "." + key, std::to_string(null_keys) + " row(s) without " + key,
            "give each row a unique " + key + " (or delete the rows after saving them), then adopt again");
      }
      auto dups = tx_.exec("SELECT " + kq + "::text, count(*), count(DISTINCT t::text) FROM " + tq + " t WHERE " + kq +
                           " IS NOT NULL GROUP BY " + kq + " HAVING count(*) > 1 ORDER BY 1");
      std::string exact;
      std::string conflicting;
      std::int64_t exact_keys = 0;
      std::int64_t conflicting_keys = 0;
      for (const auto& r : dups) {
        const std::string k = r[0].as<std::string>();
        const auto copies = r[1].as<std::int64_t>();
        if (r[2].as<std::int64_t>() == 1) {
          parked_step_rows += copies - 1;
          if (++exact_keys <= 20) exact += (exact.empty() ? "" : ", ") + k + " (" + std::to_string(copies) + " copies)";
        } else if (++conflicting_keys <= 20) {
          conflicting += (conflicting.empty() ? "" : ", ") + k + " (" + std::to_string(copies) + " rows)";
        }
      }
      if (conflicting_keys > 0) {
        add(ShapeClass::kBlocking, label + "." + key,
            std::to_string(conflicting_keys) + " " + key + " value(s) on rows that differ: " + conflicting +
                (conflicting_keys > 20 ? ", …" : ""),
            "decide which row is right for each " + key + " (e.g. which company a tech id belongs to) and delete or "
            "rename the others, then adopt again; adopt never chooses between conflicting rows");
      }
      if (exact_keys > 0) {
        add(ShapeClass::kNormalized, label + "." + key,
            std::to_string(exact_keys) + " " + key + " value(s) on identical rows: " + exact +
                (exact_keys > 20 ? ", …" : ""),
            "the " + std::to_string(parked_step_rows) +
                " extra identical copies are moved to legacy_normalization_parked_rows (nothing is lost; the "
                "rollback puts them back)",
            "WITH parked AS (DELETE FROM " + tq + " t WHERE t.ctid IN (SELECT s.ctid FROM (SELECT ctid, row_number() "
            "OVER (PARTITION BY x::text ORDER BY ctid) AS n FROM " + tq + " x) s WHERE s.n > 1) RETURNING t.*) "
            "INSERT INTO legacy_normalization_parked_rows (step, table_name, row_data) "
            "SELECT {step}, " + lit(name) + ", to_jsonb(parked) FROM parked",
            "INSERT INTO " + tq + " SELECT (jsonb_populate_record(NULL::" + tq + ", p.row_data)).* "
            "FROM legacy_normalization_parked_rows p WHERE p.step = {step}; "
            "DELETE FROM legacy_normalization_parked_rows WHERE step = {step}");
      }
    }

    // Customers sharing an email: the new schema allows one active customer per
    // email; the backfill merges them (a data finding: the shape needs nothing).
    if (name == "customers" && found.count("email") && found.count("company_id")) {
      const auto shared = count("SELECT count(*) FROM (SELECT 1 FROM " + tq + " WHERE nullif(btrim(email::text), '') "
                                "IS NOT NULL GROUP BY company_id, lower(btrim(email::text)) HAVING count(*) > 1) x");
      if (shared > 0) {
        add(ShapeClass::kKept, label + ".email",
            std::to_string(shared) + " email(s) on more than one customer of a company",
            "`backfill` merges each email's customers into the oldest (one merge per email, undoable; "
            "`backfill --keep-shared-emails` leaves them for review and `verify` then reports them)");
      }
    }

    // 2. Types.
    for (const auto& col : t.columns) {
      const auto& c = found.at(col.name);
      const std::string subject = label + "." + col.name;
      const std::string cq = q(col.name);
      if (c.type == col.type) continue;
      const std::string expected = col.type;
      const std::string finding = "expected " + expected + ", found " + c.type;
      const std::string alter = "ALTER TABLE " + tq + " ALTER COLUMN " + cq + " TYPE ";
      if (expected == "text" && (c.base_type == "character varying" || c.base_type == "text")) {
        add(ShapeClass::kNormalized, subject, finding, "converted to text (same values)", alter + "text",
            alter + c.type);
      } else if (expected == "timestamp with time zone" && c.base_type == "timestamp without time zone") {
        add(ShapeClass::kNormalized, subject, finding,
            "converted to timestamptz, the stored values read as UTC; the rollback converts back to the same values",
            alter + "timestamp with time zone USING " + cq + " AT TIME ZONE 'UTC'",
            alter + c.type + " USING " + cq + " AT TIME ZONE 'UTC'");
      } else if (expected == "timestamp with time zone" && c.base_type == "timestamp with time zone") {
        add(ShapeClass::kNormalized, subject, finding, "converted to full microsecond precision (same values)",
            alter + "timestamp with time zone", alter + c.type);
      } else if (expected == "text" && (c.base_type == "smallint" || c.base_type == "integer" || c.base_type == "bigint")) {
        // numeric session ids and the like: the decimal text of an integer reads back
        // as the same integer, so the rollback restores every value exactly
        add(ShapeClass::kNormalized, subject, finding,
            "converted to text (each number's decimal digits; the rollback converts back to the same numbers)",
            alter + "text USING " + cq + "::text", alter + c.type + " USING " + cq + "::" + c.type);
      } else if (expected == "bigint" && (c.base_type == "integer" || c.base_type == "smallint")) {
        add(ShapeClass::kNormalized, subject, finding, "widened to bigint (same values)", alter + "bigint",
            alter + c.type);
      } else if (expected == "uuid" && (c.base_type == "text" || c.base_type == "character varying")) {
        const auto bad = count("SELECT count(*) FROM " + tq + " WHERE " + cq + " IS NOT NULL AND " + cq +
                               "::text !~ '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$'");
        if (bad == 0) {
          add(ShapeClass::kNormalized, subject, finding,
              "converted to uuid (every value is a lower-case canonical uuid, so the rollback restores the same text)",
              alter + "uuid USING " + cq + "::uuid", alter + c.type + " USING " + cq + "::text");
        } else {
          add(ShapeClass::kBlocking, subject, finding + "; " + std::to_string(bad) + " value(s) are not canonical uuids",
              "correct or remove those values (a uuid in lower case with hyphens), then adopt again");
        }
      } else {
        add(ShapeClass::kBlocking, subject, finding,
            "convert it yourself (ALTER TABLE " + tq + " ALTER COLUMN " + cq + " TYPE " + expected +
                " USING …) after deciding how each value maps, then adopt again");
      }
    }

    // 3. NOT NULL.
    for (const auto& col : t.columns) {
      const auto& c = found.at(col.name);
      if (!col.not_null || c.not_null) continue;
      const std::string subject = label + "." + col.name;
      const std::string cq = q(col.name);
      const auto nulls = count("SELECT count(*) FROM " + tq + " WHERE " + cq + " IS NULL");
      if (nulls == 0) {
        add(ShapeClass::kNormalized, subject, "nullable (0001: NOT NULL); no row is NULL", "made NOT NULL",
            "ALTER TABLE " + tq + " ALTER COLUMN " + cq + " SET NOT NULL",
            "ALTER TABLE " + tq + " ALTER COLUMN " + cq + " DROP NOT NULL");
      } else if (name == "VC Usage" && key != col.name) {
        add(ShapeClass::kKept, subject,
            "nullable (0001: NOT NULL); " + std::to_string(nulls) + " row(s) are NULL",
            "stays nullable (adopt never invents legacy values); those chat rows are linked like any other and "
            "count as contacts without a time");
      } else if (col.name == key) {
        // Reported with the key above.
      } else {
        add(ShapeClass::kBlocking, subject, "nullable (0001: NOT NULL); " + std::to_string(nulls) + " row(s) are NULL",
            "fill them (UPDATE " + tq + " SET " + cq + " = … WHERE " + cq + " IS NULL) or delete the rows, then "
            "adopt again; the new schema needs a value");
      }
    }

    // 4. Defaults.
    for (const auto& col : t.columns) {
      if (col.default_sql == nullptr) continue;
      const auto& c = found.at(col.name);
      const std::string subject = label + "." + col.name;
      const std::string cq = q(col.name);
      if (std::string(col.default_sql).empty()) {  // the serial id of "VC Usage"
        std::optional<std::string> seq;
        auto r = tx_.exec_params("SELECT pg_get_serial_sequence($1, $2)", tq, col.name);
        if (!r[0][0].is_null()) seq = r[0][0].as<std::string>();
        if (!seq && c.default_sql) {
          std::smatch m;
          static const std::regex kNextval(R"(^nextval\('(.+)'::regclass\)$)");
          if (std::regex_match(*c.default_sql, m, kNextval)) seq = m[1].str();
        }
        const std::string wanted = "public." + q(kVcUsageSequence);
        if (seq && (*seq == wanted || *seq == q(kVcUsageSequence))) continue;
        const bool name_taken = !tx_.exec_params("SELECT to_regclass($1)", wanted)[0][0].is_null();
        if (name_taken) {
          add(ShapeClass::kBlocking, subject,
              "a relation named " + wanted + " exists but is not the sequence of " + label + ".id",
              "rename it (the upgrade grants the service the use of " + wanted + ")");
        } else if (seq) {
          auto bare = tx_.exec_params("SELECT c.relname FROM pg_class c WHERE c.oid = $1::regclass", *seq);
          add(ShapeClass::kNormalized, subject, "ids come from sequence " + *seq,
              "the sequence is renamed to " + q(kVcUsageSequence) + " (the name the upgrade grants)",
              "ALTER SEQUENCE " + *seq + " RENAME TO " + q(kVcUsageSequence),
              "ALTER SEQUENCE " + wanted + " RENAME TO " + q(bare[0][0].as<std::string>()));
        } else if (c.default_sql) {
          add(ShapeClass::kBlocking, subject, "default " + *c.default_sql + " (0001: a bigserial sequence)",
              "make the ids come from a sequence (DEFAULT nextval(…)), then adopt again");
        } else {
          add(ShapeClass::kNormalized, subject, "no default (0001: bigserial)",
              "a sequence " + q(kVcUsageSequence) + " starting after the largest id becomes the default",
              "CREATE SEQUENCE " + wanted + " OWNED BY " + tq + "." + cq + "; SELECT setval(" + lit(wanted) +
                  ", coalesce(max(" + cq + "), 0) + 1, false) FROM " + tq + "; ALTER TABLE " + tq +
                  " ALTER COLUMN " + cq + " SET DEFAULT nextval(" + lit(wanted) + "::regclass)",
              "ALTER TABLE " + tq + " ALTER COLUMN " + cq + " DROP DEFAULT; DROP SEQUENCE " + wanted);
        }
        continue;
      }
      if (c.identity) continue;
      if (!c.default_sql) {
        add(ShapeClass::kNormalized, subject, std::string("no default (0001: ") + col.default_sql + ")",
            std::string("DEFAULT ") + col.default_sql + " added",
            "ALTER TABLE " + tq + " ALTER COLUMN " + cq + " SET DEFAULT " + col.default_sql,
            "ALTER TABLE " + tq + " ALTER COLUMN " + cq + " DROP DEFAULT");
      } else if (*c.default_sql != col.default_sql) {
        add(ShapeClass::kKept, subject, "default " + *c.default_sql + " (0001: " + col.default_sql + ")",
            "kept: any default that yields a value serves the new schema");
      }
    }

    // 5. Keys.
    const std::string pkey = name + "_pkey";
    if (pkey_name && *pkey_name != pkey) {
      add(ShapeClass::kNormalized, label + " (primary key)", "primary key named " + *pkey_name + " (0001: " + pkey + ")",
          "renamed to " + pkey + " (the upgrade's migrations refer to it by that name)",
          "ALTER TABLE " + tq + " RENAME CONSTRAINT " + q(*pkey_name) + " TO " + q(pkey),
          "ALTER TABLE " + tq + " RENAME CONSTRAINT " + q(pkey) + " TO " + q(*pkey_name));
    } else if (!pkey_name) {
      add(ShapeClass::kNormalized, label + " (primary key)", "no primary key (0001: PRIMARY KEY (" + key + "))",
          "PRIMARY KEY (" + key + ") added" + std::string(parked_step_rows > 0 ? " after parking the identical copies" : ""),
          "ALTER TABLE " + tq + " ADD CONSTRAINT " + q(pkey) + " PRIMARY KEY (" + kq + ")",
          "ALTER TABLE " + tq + " DROP CONSTRAINT " + q(pkey));  // NOT NULL of the key: its own step (3.)
    }
    if (name == "companies") {
      const bool unique_slug =
          !tx_.exec_params("SELECT 1 FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = "
                           "i.indkey[0] WHERE i.indrelid = $1::oid AND i.indisunique AND i.indpred IS NULL AND "
                           "i.indnkeyatts = 1 AND a.attname = 'slug'",
                           oid)
               .empty();
      if (!unique_slug) {
        auto dups = tx_.exec("SELECT string_agg(slug, ', ' ORDER BY slug), count(*) FROM (SELECT slug FROM companies "
                             "WHERE slug IS NOT NULL GROUP BY slug HAVING count(*) > 1) s");
        if (dups[0][1].as<std::int64_t>() > 0) {
          add(ShapeClass::kBlocking, "\"companies\".slug", "not unique; shared by several companies: " +
                                                               dups[0][0].as<std::string>(),
              "give each company its own slug, then adopt again");
        } else {
          add(ShapeClass::kNormalized, "\"companies\".slug", "not unique (0001: UNIQUE)", "UNIQUE (slug) added",
              "ALTER TABLE companies ADD CONSTRAINT companies_slug_key UNIQUE (slug)",
              "ALTER TABLE companies DROP CONSTRAINT companies_slug_key");
        }
      }
    }
    if (name == "app_users") {
      const bool has_fk =
          !tx_.exec_params("SELECT 1 FROM pg_constraint WHERE conrelid = $1::oid AND contype = 'f' AND "
                           "confrelid = to_regclass('public.companies') AND conkey = ARRAY[$2::smallint]",
                           oid, found.at("company_id").attnum)
               .empty();
      const bool companies_exist = !tx_.exec("SELECT to_regclass('public.companies')")[0][0].is_null();
      if (!has_fk && companies_exist) {
        auto orphans = tx_.exec(
            "SELECT string_agg(tech_id::text, ', ' ORDER BY tech_id), count(*) FROM app_users u WHERE company_id IS "
            "NOT NULL AND NOT EXISTS (SELECT 1 FROM companies c WHERE c.id::text = u.company_id::text)");
        if (orphans[0][1].as<std::int64_t>() > 0) {
          add(ShapeClass::kBlocking, "\"app_users\".company_id",
              "no foreign key to companies; tech id(s) of unknown companies: " + orphans[0][0].as<std::string>(),
              "add the missing companies (or remove those users after saving them), then adopt again");
        } else {
          add(ShapeClass::kNormalized, "\"app_users\".company_id", "no foreign key to companies (0001: REFERENCES)",
              "FOREIGN KEY (company_id) REFERENCES companies (id) added",
              "ALTER TABLE app_users ADD CONSTRAINT app_users_company_id_fkey FOREIGN KEY (company_id) "
              "REFERENCES companies (id)",
              "ALTER TABLE app_users DROP CONSTRAINT app_users_company_id_fkey");
        }
      }
    }
  }

  pqxx::transaction_base& tx_;
  std::vector<ShapeDifference> out_;
};

std::string with_step(std::string sql, int step) {
  const std::string token = "{step}";
  for (auto pos = sql.find(token); pos != std::string::npos; pos = sql.find(token, pos)) {
    sql.replace(pos, token.size(), std::to_string(step));
  }
  return sql;
}

bool plan_exists(pqxx::transaction_base& tx) {
  return !tx.exec("SELECT to_regclass('public.legacy_normalization')")[0][0].is_null();
}

}  // namespace

const char* to_string(ShapeClass c) {
  switch (c) {
    case ShapeClass::kNormalized:
      return "normalized";
    case ShapeClass::kKept:
      return "kept";
    case ShapeClass::kBlocking:
      return "blocking";
  }
  return "?";
}

std::string ShapeDifference::text() const {
  return subject + ": " + finding + " — " + to_string(kind) + ": " + action;
}

std::vector<ShapeDifference> analyze_legacy_shape(pqxx::transaction_base& tx) { return Analyzer(tx).run(); }

void record_legacy_normalization_plan(pqxx::transaction_base& tx, const std::vector<ShapeDifference>& differences) {
  tx.exec(R"sql(
CREATE TABLE IF NOT EXISTS legacy_normalization (
  step       integer PRIMARY KEY,
  subject    text NOT NULL,
  finding    text NOT NULL,
  action     text NOT NULL,
  do_sql     text NOT NULL,
  undo_sql   text NOT NULL,
  applied_at timestamptz
);
CREATE TABLE IF NOT EXISTS legacy_normalization_parked_rows (
  step       integer NOT NULL,
  table_name text NOT NULL,
  row_data   jsonb NOT NULL
))sql");
  if (!tx.exec("SELECT 1 FROM legacy_normalization WHERE applied_at IS NOT NULL LIMIT 1").empty()) {
    throw MigrationError("legacy_normalization has applied steps: roll back with `migrate down --to 1` first");
  }
  tx.exec("DELETE FROM legacy_normalization");
  int step = 0;
  for (const auto& d : differences) {
    if (d.kind != ShapeClass::kNormalized) continue;
    ++step;
    tx.exec_params(
        "INSERT INTO legacy_normalization (step, subject, finding, action, do_sql, undo_sql) "
        "VALUES ($1, $2, $3, $4, $5, $6)",
        step, d.subject, d.finding, d.action, with_step(d.do_sql, step), with_step(d.undo_sql, step));
  }
}

int apply_legacy_normalization(pqxx::transaction_base& tx) {
  if (!plan_exists(tx)) return 0;
  int ran = 0;
  for (const auto& r : tx.exec("SELECT step, do_sql FROM legacy_normalization WHERE applied_at IS NULL ORDER BY step")) {
    tx.exec(r[1].as<std::string>());
    tx.exec_params("UPDATE legacy_normalization SET applied_at = now() WHERE step = $1", r[0].as<int>());
    ++ran;
  }
  return ran;
}

int undo_legacy_normalization(pqxx::transaction_base& tx) {
  if (!plan_exists(tx)) return 0;
  int ran = 0;
  for (const auto& r :
       tx.exec("SELECT step, undo_sql FROM legacy_normalization WHERE applied_at IS NOT NULL ORDER BY step DESC")) {
    tx.exec(r[1].as<std::string>());
    tx.exec_params("UPDATE legacy_normalization SET applied_at = NULL WHERE step = $1", r[0].as<int>());
    ++ran;
  }
  return ran;
}

}  // namespace tradesphere::db
