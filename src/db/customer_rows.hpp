// Row mappers: one from_row function per struct read from SQL. The column
// lists they expect are the k...Columns constants below; every query that
// feeds a mapper selects exactly those columns, in that order, first.
#pragma once

#include <pqxx/pqxx>

#include "domain/customer_row_view.hpp"
#include "domain/customer.hpp"

namespace tradesphere::db {

// Columns of a customers row, for SELECT lists (alias c).
inline constexpr const char* kCustomerColumns =
    "c.id::text, c.company_id::text, c.external_id, c.name, c.email, c.phone, c.address, c.notes, "
    "c.attributes::text, c.lifecycle_stage, array_to_json(c.tags)::text, c.source, c.status, "
    "c.merged_into_customer_id::text, c.deleted_at::text, c.created_at::text, c.updated_at::text, "
    "c.created_by, c.updated_by, c.version";
inline constexpr int kCustomerColumnCount = 20;

// Columns of customer_metrics (alias m; LEFT JOIN tolerant), after the customer columns.
inline constexpr const char* kMetricsColumns =
    "coalesce(m.conversation_count, 0), coalesce(m.message_count, 0), m.first_contact_at::text, "
    "m.last_contact_at::text, m.last_message_preview";
inline constexpr int kMetricsColumnCount = 5;
// The same values from the copy on the customer's row (alias c; migration 0040), for
// statements that read customers without joining customer_metrics.
inline constexpr const char* kCopiedMetricsColumns =
    "c.metric_conversation_count, c.metric_message_count, c.metric_first_contact_at::text, "
    "c.metric_last_contact_at::text, c.metric_last_message_preview";

// kCustomerColumns / kMetricsColumns starting at column `offset`, as views into the
// row's result (domain/customer_row_view.hpp): the one decoding of those columns.
domain::CustomerView customer_view(const pqxx::row& row, int offset = 0);
domain::MetricsView metrics_view(const pqxx::row& row, int offset = kCustomerColumnCount);

// Reads kCustomerColumns starting at column `offset`.
domain::Customer customer_from_row(const pqxx::row& row, int offset = 0);
// Reads kMetricsColumns starting at column `offset`.
domain::CustomerMetrics metrics_from_row(const pqxx::row& row, int offset = kCustomerColumnCount);
// kCustomerColumns then kMetricsColumns.
domain::CustomerWithMetrics customer_with_metrics_from_row(const pqxx::row& row);

}  // namespace tradesphere::db
