// Imports the customer directory: customers, static assignments and sessions from CSV, sessions
// from FreeRADIUS `detail` accounting files. Formats: docs/customers.md.
#pragma once

#include <cstddef>
#include <functional>
#include <string_view>

#include "formats/format.hpp"

namespace klartext::store {
class Store;
}

namespace klartext::customers {

struct ImportStats {
  std::size_t records = 0;  // rows / RADIUS records read
  std::size_t added = 0;    // customers upserted, assignments or sessions added/changed
  std::size_t issues = 0;   // problems reported (the record was skipped unless the issue says otherwise)
};

// Receives every problem found in the input (also stored by the CLI).
using IssueFn = std::function<void(const formats::ParseIssue&)>;

// Each function writes into `store` (inside the caller's transaction); `input` names the file in issues.
ImportStats import_customers_csv(store::Store& store, std::string_view data, std::string_view input,
                                 const IssueFn& on_issue);
ImportStats import_assignments_csv(store::Store& store, std::string_view data, std::string_view input,
                                   const IssueFn& on_issue);
ImportStats import_sessions_csv(store::Store& store, std::string_view data, std::string_view input,
                                const IssueFn& on_issue);
ImportStats import_radius_detail(store::Store& store, std::string_view data, std::string_view input,
                                 const IssueFn& on_issue);

}  // namespace klartext::customers
