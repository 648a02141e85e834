#include "domain/customer_csv.hpp"

#include <gtest/gtest.h>

#include <sstream>

#include "domain/csv.hpp"

namespace tradesphere::domain {
namespace {

std::vector<std::string> parse_one(const std::string& text) {
  std::istringstream in(text);
  CsvReader reader(in);
  CsvRecord r;
  EXPECT_TRUE(reader.next(r));
  EXPECT_TRUE(r.error.empty()) << r.error;
  auto fields = r.fields;
  EXPECT_FALSE(reader.next(r)) << "one record expected";
  return fields;
}

TEST(CustomerCsv, HeaderNamesTheColumnsInOrder) {
  std::string out;
  append_customer_csv_header(out);
  EXPECT_EQ(out,
            "id,external_id,name,email,phone,address,lifecycle_stage,tags,notes,source,created_at,updated_at,"
            "conversation_count,message_count,last_contact_at\r\n");
}

TEST(CustomerCsv, RecordHoldsEveryColumnWithTagsJoinedBySemicolon) {
  CustomerWithMetrics cm;
  Customer& c = cm.customer;
  c.id = "11111111-1111-1111-1111-111111111111";
  c.external_id = "ext-7";
  c.name = "Lee, Ann";
  c.email = "ann@example.com";
  c.phone = "+1 415 555 0100";
  c.address = "1 Main St\nSpringfield";
  c.stage = LifecycleStage::kLead;
  c.tags = {"vip", "eu west"};
  c.notes = "said \"call me\"";
  c.source = CustomerSource::kImport;
  c.created_at = "2026-12-06T16:54:57.651908Z";
  c.updated_at = "2026-12-07T01:02:03.000000Z";
  cm.metrics.conversation_count = 3;
  cm.metrics.message_count = 12;
  cm.metrics.last_contact_at = "2026-12-07T00:00:00.000001Z";
  std::string out;
  append_customer_csv_record(out, cm);
  EXPECT_EQ(out.substr(out.size() - 2), "\r\n");
  const auto fields = parse_one(out);
  ASSERT_EQ(fields.size(), kCustomerCsvColumns.size());
  EXPECT_EQ(fields, (std::vector<std::string>{c.id, "ext-7", "Lee, Ann", "ann@example.com", "+1 415 555 0100",
                                              "1 Main St\nSpringfield", "lead", "vip;eu west", "said \"call me\"",
                                              "import", "2026-12-06T16:54:57.651908Z", "2026-12-07T01:02:03.000000Z",
                                              "3", "12", "2026-12-07T00:00:00.000001Z"}));
}

TEST(CustomerCsv, MissingValuesAreEmptyFields) {
  CustomerWithMetrics cm;
  cm.customer.id = "22222222-2222-2222-2222-222222222222";
  cm.customer.created_at = "2026-01-01T00:00:00.000000Z";
  cm.customer.updated_at = "2026-01-01T00:00:00.000000Z";
  std::string out;
  append_customer_csv_record(out, cm);
  EXPECT_EQ(out, "22222222-2222-2222-2222-222222222222,,,,,,prospect,,,manual,2026-01-01T00:00:00.000000Z,"
                 "2026-01-01T00:00:00.000000Z,0,0,\r\n");
}

TEST(CustomerCsv, FileNameCarriesTheUtcDate) {
  using namespace std::chrono;
  const auto t = sys_days{year{2026} / December / 7} + hours{23} + minutes{59};
  EXPECT_EQ(customer_export_file_name(t), "customers-2026-12-07.csv");
  EXPECT_EQ(customer_export_file_name(sys_days{year{2025} / January / 2}), "customers-2025-01-02.csv");
}

}  // namespace
}  // namespace tradesphere::domain
