// Import's rule for a row whose email is already taken (services::CustomerImportService,
// `tradesphere import --on-existing-email`, POST /v1/customers/import). No database type here.
#pragma once

namespace tradesphere::domain {

// What a row whose email (normalized) already belongs to an active customer of
// the company does (`tradesphere import --on-existing-email`).
enum class ExistingEmail {
  kKeep,    // import it as another customer (the default; duplicates finds the pair)
  kSkip,    // do not import it; report the customer that holds the email
  kUpdate,  // update that customer: the row's non-empty name, phone, address, notes; tags added
};

}  // namespace tradesphere::domain
