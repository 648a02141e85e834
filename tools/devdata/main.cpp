// tradesphere-dev: development data for tests, benchmarks and demos (tools/devdata).
//   tradesphere-dev seed --customers 100000 --seed 42
//   tradesphere-dev evaluate-duplicates --people 5000
#include <CLI/CLI.hpp>

#include "devdata/commands.hpp"

int main(int argc, char** argv) {
  using namespace tradesphere;
  CLI::App app{"TradeSphere Customers development data: seed a database, measure duplicate detection"};
  cli::GlobalOptions global;
  cli::add_global_options(app, global);

  devdata::register_seed_command(app, global);
  devdata::register_evaluate_duplicates_command(app);

  return cli::run_app(app, argc, argv);
}
