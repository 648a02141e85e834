// Legacy upgrade commands: backfill, verify, sync pause|resume (adopt lives
// with the other migrate subcommands). Runbook: docs/upgrade.md.
#include <cstdio>
#include <iostream>
#include <memory>

#include "cli/cli_context.hpp"
#include "cli/commands.hpp"
#include "db/database.hpp"
#include "db/legacy_upgrade.hpp"
#include "services/shared_email_merges.hpp"

namespace tradesphere::cli {
namespace {

// The company of --company (every company when it is empty).
std::optional<std::string> company_id_for_slug(const GlobalOptions& g, const std::string& slug) {
  if (slug.empty()) return std::nullopt;
  return company_scope(g, slug).ctx.company_id;
}

}  // namespace

void register_upgrade_commands(CLI::App& app, GlobalOptions& g) {
  auto* backfill = app.add_subcommand(
      "backfill", "Link every legacy chat row to a customer in short batches (resumable, idempotent)");
  auto options = std::make_shared<db::BackfillOptions>();
  auto throttle = std::make_shared<double>(0);
  backfill->add_option("--batch", options->batch, "Rows per transaction")->capture_default_str();
  backfill->add_option("--throttle", *throttle, "At most this many rows per second (0 = unlimited)");
  backfill->add_option("--jobs", options->jobs, "Parallel workers, each owning whole companies")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  backfill->add_flag("--row-by-row", options->row_by_row,
                     "Link each row with link_chat_row() (the path before migration 0035; same result, slower), "
                     "for comparisons");
  auto keep_shared = std::make_shared<bool>(false);
  backfill->add_flag("--keep-shared-emails", *keep_shared,
                     "Do not merge customers that share an email (verify then fails until they are merged)");
  backfill->callback([&g, options, throttle, keep_shared] {
    if (*throttle > 0) options->throttle_rows_per_second = *throttle;
    auto target = db::resolve_database(g.database());
    // one email, one customer: the legacy duplicates first, so the chat rows link to
    // the customer that stays
    services::SharedEmailMerges shared;
    if (!*keep_shared) {
      const auto groups = db::shared_email_groups(target.admin_url);
      if (!groups.empty()) {
        db::PoolOptions o;
        o.url = target.app_url;
        o.size = 1;
        db::Database app(o);
        shared = services::merge_shared_emails(app, groups);
      }
    }
    auto report = db::backfill_chat_links(target.admin_url, *options, [](const db::BackfillProgress& p) {
      std::fprintf(stderr, "\rbackfill: %lld/%lld rows, %.0f rows/s, ETA %.0f s   ", static_cast<long long>(p.rows_done),
                   static_cast<long long>(p.rows_total), p.rows_per_second, p.eta_seconds);
    });
    std::fprintf(stderr, "\n");
    std::cout << "rows examined:     " << report.rows_examined << "\n"
              << "rows linked:       " << report.rows_linked << "\n"
              << "customers created: " << report.customers_created << "\n"
              << "sync failed:       " << report.failed << " (stored, not linked; recorded in chat_sync_failures)\n"
              << "left orphaned:     " << report.orphaned << " (no usable name, email or phone)\n"
              << "quarantined:       " << report.quarantined << " (tech_id matches no user; see `verify`)\n"
              << "row-by-row batches: " << report.batches_row_by_row
              << (options->row_by_row ? " (--row-by-row)\n" : " (a row failed: the batch was linked again row by row)\n")
              << "customers merged:  " << shared.customers_merged << " (sharing an email with an older customer: "
              << shared.emails << " merge(s), each undoable with POST /v1/merges/{id}/undo)\n";
    for (const auto& f : shared.failures) std::cout << "  not merged: " << f << "\n";
    if (!report.open_failures.empty()) {
      std::cout << "open sync failures by cause (all rows; fix the cause, then `sync resume` retries them):\n";
      for (const auto& f : report.open_failures) {
        std::cout << "  " << f.rows << " row(s): " << f.reason
                  << (f.sqlstate.empty() ? "" : " SQLSTATE " + f.sqlstate) << ": " << f.message << "\n";
      }
    }
  });

  auto* verify = app.add_subcommand(
      "verify", "Check the upgrade lost nothing; exit 0 only when every check passes");
  auto format = std::make_shared<std::string>("text");
  verify->add_option("--format", *format, "text or json")->check(CLI::IsMember({"text", "json"}))->capture_default_str();
  verify->callback([&g, format] {
    auto target = db::resolve_database(g.database());
    auto report = db::verify_upgrade(target.admin_url);
    if (*format == "json") {
      std::cout << report.to_json().dump() << "\n";
    } else {
      std::cout << report.to_text();
    }
    if (!report.ok) throw CLI::RuntimeError(1);
  });

  auto* sync = app.add_subcommand("sync", "Pause or resume the chat → customer sync (chats are still stored)");
  sync->require_subcommand(1);
  auto company = std::make_shared<std::string>();
  auto* pause = sync->add_subcommand("pause", "Store new chat rows orphaned until resume");
  pause->add_option("--company", *company, "Company slug (default: every company)");
  pause->callback([&g, company] {
    auto target = db::resolve_database(g.database());
    db::pause_chat_sync(target.admin_url, company_id_for_slug(g, *company));
    std::cout << "chat sync paused" << (company->empty() ? "" : " for " + *company) << "\n";
  });
  auto* resume = sync->add_subcommand("resume", "Resume the sync and link the rows stored while paused");
  resume->add_option("--company", *company, "Company slug (default: every company)");
  resume->callback([&g, company] {
    auto target = db::resolve_database(g.database());
    const auto r = db::resume_chat_sync(target.admin_url, company_id_for_slug(g, *company));
    std::cout << "chat sync resumed; " << r.linked << " row(s) linked";
    if (r.still_failing > 0) {
      std::cout << "; " << r.still_failing << " row(s) still failing (`tradesphere verify` names the causes)";
    }
    std::cout << "\n";
  });

  auto* quarantine = app.add_subcommand("quarantine", "Chat rows whose tech_id matches no user (listed by `verify`)");
  quarantine->require_subcommand(1);
  auto* assign = quarantine->add_subcommand(
      "assign", "Give a tech id's quarantined chat rows a company and link them (add the user first: `user add`)");
  auto tech_id = std::make_shared<std::string>();
  auto slug = std::make_shared<std::string>();
  assign->add_option("--tech-id", *tech_id, "The tech id whose rows are quarantined")->required();
  assign->add_option("--company", *slug, "Slug of the company the rows belong to")->required();
  assign->callback([&g, tech_id, slug] {
    auto target = db::resolve_database(g.database());
    const auto r = db::assign_quarantined_rows(target.admin_url, *tech_id, *company_id_for_slug(g, *slug));
    std::cout << "assigned " << r.assigned << " chat row(s) of tech id " << *tech_id << " to " << *slug << "; "
              << r.linked << " linked";
    if (r.failed > 0) std::cout << "; " << r.failed << " failed to sync (`tradesphere verify` names the causes)";
    std::cout << "\n";
  });
}

}  // namespace tradesphere::cli
