// Deterministic planted-duplicate data for measuring duplicate detection
// (docs/duplicates.md): clean customers, corrupted copies of some of them
// (typos, transpositions, swapped names, nicknames, initials, dropped fields,
// reformatted emails/phones/addresses) and hard negatives (family members who share
// a surname, an address and often a phone; strangers who share a common name).
// Same config -> same records on every platform: the fake_data generator (FakeRng,
// splitmix64) and its one vocabulary (fake_vocabulary).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "domain/duplicate_scoring.hpp"

namespace tradesphere::devdata {

struct PlantedConfig {
  std::size_t people = 2000;       // clean customers (before copies and family members)
  double duplicate_share = 0.30;   // share of people who get corrupted copies
  std::size_t max_copies = 2;      // 1..max_copies copies each
  double family_share = 0.10;      // share of people who get 1-2 family members at the same address
  std::uint64_t seed = 42;
  bool contact_fields = true;      // false: the name+address-only variant (no email, no phone on any record)
  // share of copies whose given name is replaced by another name (FEBRL's copies:
  // the same surname and address, another given name); 0 draws nothing, so the
  // records of every other configuration stay what they were
  double replaced_given_share = 0;
};

struct PlantedDataset {
  std::vector<domain::MatchInput> records;               // id = "c<n>", external_id = id
  std::vector<std::vector<std::string>> truth;   // clusters of ids of the same person (size >= 2)
};

PlantedDataset generate_planted_duplicates(const PlantedConfig& config = {});

}  // namespace tradesphere::devdata
