// The one registration point for input formats: add a format here, in its folder, and nowhere else.
#include "formats/acns/acns.hpp"
#include "formats/arf/arf.hpp"
#include "formats/certnotice/certnotice.hpp"
#include "formats/format.hpp"
#include "formats/iodef/iodef.hpp"
#include "formats/mail/mail.hpp"
#include "formats/shadowserver/shadowserver.hpp"
#include "formats/spamcop/spamcop.hpp"
#include "formats/threatexchange/threatexchange.hpp"
#include "formats/xarf/xarf.hpp"

namespace klartext::formats {

// Each format folder defines its accessor.
// (Declarations are added by each format together with its line in the list below.)
const Format* text_format();  // formats/freetext/text_format.cpp

const std::vector<const Format*>& all_formats() {
  static const std::vector<const Format*> kFormats = {
      &shadowserver::format(),
      &mail::mail_format(),
      &xarf::xarf_yaml_format(),
      &xarf::xarf_json_format(),
      &arf::arf_format(),
      &iodef::iodef_format(),
      &spamcop::spamcop_format(),
      &certnotice::cert_notice_format(),
      &threatexchange::threat_exchange_format(),
      text_format(),
  };
  return kFormats;
}

}  // namespace klartext::formats
