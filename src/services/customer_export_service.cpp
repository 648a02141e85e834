#include "services/customer_export_service.hpp"

#include <algorithm>
#include <ostream>
#include <stdexcept>

#include "domain/customer_csv.hpp"

namespace tradesphere::services {

CustomerExport::CustomerExport(CustomerCrudService& customers, domain::RequestContext ctx,
                               domain::CustomerFilters filters)
    : customers_(customers), ctx_(std::move(ctx)), filters_(std::move(filters)) {}

std::string CustomerExport::next_chunk() {
  if (done_) return {};
  std::string out;
  if (!started_) {
    domain::append_customer_csv_header(out);
    started_ = true;
  }
  auto page = customers_.get_customers(ctx_, filters_);
  out.reserve(out.size() + page.items.size() * 320);
  for (const auto& c : page.items) domain::append_customer_csv_record(out, c);
  rows_ += static_cast<std::int64_t>(page.items.size());
  if (page.next_cursor) {
    filters_.cursor = std::move(page.next_cursor);
  } else {
    done_ = true;
  }
  return out;
}

CustomerExportService::CustomerExportService(db::Database& db, int page_size)
    : customers_(db), page_size_(page_size) {
  if (page_size < 1 || page_size > domain::kMaxLimit) throw std::invalid_argument("export page size out of range");
}

std::unique_ptr<CustomerExport> CustomerExportService::start(const domain::RequestContext& ctx,
                                                             domain::CustomerFilters filters) {
  filters.limit = page_size_;
  filters.cursor.reset();
  filters.include_total = false;
  domain::validate_customer_filters(filters);
  return std::make_unique<CustomerExport>(customers_, ctx, std::move(filters));
}

std::int64_t CustomerExportService::write(const domain::RequestContext& ctx, const domain::CustomerFilters& filters,
                                          std::ostream& out) {
  auto e = start(ctx, filters);
  for (std::string chunk = e->next_chunk(); !chunk.empty(); chunk = e->next_chunk()) {
    out.write(chunk.data(), static_cast<std::streamsize>(chunk.size()));
    out.flush();
    if (!out) throw std::runtime_error("writing the export failed");
  }
  return e->rows();
}

}  // namespace tradesphere::services
