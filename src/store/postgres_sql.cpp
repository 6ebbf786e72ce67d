// The PostgreSQL backend of the SQL interface (libpq): not built yet.
#include "store/sql.hpp"

namespace klartext::store {

std::unique_ptr<Connection> open_postgres(const std::string&) {
  throw SqlError("postgres: the PostgreSQL backend is not built yet; use store_backend = \"sqlite\"");
}

}  // namespace klartext::store
