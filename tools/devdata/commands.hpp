// Subcommands of `tradesphere-dev`, the development-data tool (tools/devdata):
// deterministic test data and the duplicate-detection quality measurement. Never
// part of the `tradesphere` binary.
#pragma once

#include <CLI/CLI.hpp>

#include "cli/commands.hpp"

namespace tradesphere::devdata {

// seed: customers and chat rows loaded with COPY (seed_generator.hpp)
void register_seed_command(CLI::App& app, cli::GlobalOptions& global);
// evaluate-duplicates: precision/recall on planted duplicates or a labelled list (no database)
void register_evaluate_duplicates_command(CLI::App& app);

}  // namespace tradesphere::devdata
