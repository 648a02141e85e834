// CustomerExportService: the customer list as CSV (GET /v1/customers/export and
// `tradesphere export`), produced one keyset page at a time so memory stays flat
// at any company size (a page of 1000 customers is ~300 KB of CSV).
//
// Each page is one CustomerCrudService::get_customers call: one read-only
// transaction with the list's filters, sort and keyset cursor. Nothing is held
// between pages (no transaction, no connection), so a slow reader never pins a
// database connection. The export is therefore not one snapshot: a customer that
// changes while the export runs can appear where it was or where it now is, as
// when paging through the list.
//
//   CustomerExportService exports(db);
//   auto e = exports.start(ctx, domain::parse_customer_export_filters(params));
//   for (std::string chunk; !(chunk = e->next_chunk()).empty();) send(chunk);
#pragma once

#include <cstdint>
#include <iosfwd>
#include <memory>
#include <optional>
#include <string>

#include "domain/customer_filters.hpp"
#include "domain/request_context.hpp"
#include "services/customer_crud_service.hpp"

namespace tradesphere::db {
class Database;
}

namespace tradesphere::services {

// One export in progress. Not thread-safe; one caller at a time (calls may come
// from different threads one after the other).
class CustomerExport {
 public:
  CustomerExport(CustomerCrudService& customers, domain::RequestContext ctx, domain::CustomerFilters filters);

  // The next part of the CSV: the header and the first page on the first call,
  // then one page per call; "" once everything was returned (the header alone
  // when no customer matches). Database errors propagate (the export is then
  // unusable).
  std::string next_chunk();
  std::int64_t rows() const { return rows_; }

 private:
  CustomerCrudService& customers_;
  domain::RequestContext ctx_;
  domain::CustomerFilters filters_;
  bool started_ = false;
  bool done_ = false;
  std::int64_t rows_ = 0;
};

class CustomerExportService {
 public:
  static constexpr int kDefaultPageSize = 1000;

  // page_size: customers per statement, 1..domain::kMaxLimit (tests lower it).
  explicit CustomerExportService(db::Database& db, int page_size = kDefaultPageSize);

  // Validates the filters (ValidationError); their limit, cursor and
  // include_total are replaced (an export is always the whole filtered list).
  std::unique_ptr<CustomerExport> start(const domain::RequestContext& ctx, domain::CustomerFilters filters);
  // The whole export written to `out` (flushed per page); returns the customers written.
  std::int64_t write(const domain::RequestContext& ctx, const domain::CustomerFilters& filters, std::ostream& out);

  int page_size() const { return page_size_; }

 private:
  CustomerCrudService customers_;
  int page_size_;
};

}  // namespace tradesphere::services
