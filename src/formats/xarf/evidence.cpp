// Log-line evidence classification: only patterns that leave no doubt.
#include "formats/xarf/evidence.hpp"

#include <array>

#include "formats/mail/mime.hpp"

namespace klartext::formats::xarf {

std::optional<core::Classification> classify_evidence(std::string_view log) {
  static constexpr std::array<std::string_view, 8> kAuthFailure = {
      "Failed password for", "authentication failure",           "AUTH failure", "Invalid user ", "password mismatch",
      "Login failed",        "SASL LOGIN authentication failed", "auth failed"};
  std::size_t hits = 0;
  std::size_t pos = 0;
  while (pos < log.size()) {
    std::size_t eol = log.find('\n', pos);
    std::string_view line = log.substr(pos, (eol == std::string_view::npos ? log.size() : eol) - pos);
    pos = eol == std::string_view::npos ? log.size() : eol + 1;
    for (auto p : kAuthFailure) {
      if (mail::icontains(line, p)) {
        ++hits;
        break;
      }
    }
  }
  if (hits >= 2) {
    std::string id = "login-attack";
    if (mail::icontains(log, "sshd")) {
      id = "ssh";
    } else if (mail::icontains(log, "sasl") || mail::icontains(log, "smtp") || mail::icontains(log, "sm-mta") ||
               mail::icontains(log, "postfix")) {
      id = "smtp-auth";
    } else if (mail::icontains(log, "dovecot") || mail::icontains(log, "imap") || mail::icontains(log, "pop3")) {
      id = "imap-pop3";
    }
    return core::Classification::of(core::IncidentType::kBruteForce, id);
  }
  return std::nullopt;
}

}  // namespace klartext::formats::xarf
