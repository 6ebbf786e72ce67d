// Internal: the codec objects, one accessor per protocol family (registered by name in codec.cpp).
#pragma once

#include "probe/codec.hpp"

namespace klartext::probe::detail {

const Codec& ntp_mode7_codec();
const Codec& ntp_mode6_codec();
const Codec& ntp_mode3_codec();
const Codec& dns_codec();
const Codec& ssdp_codec();
const Codec& memcached_codec();
const Codec& chargen_codec();
const Codec& qotd_codec();
const Codec& snmp_codec();
const Codec& portmap_codec();
const Codec& netbios_codec();
const Codec& cldap_codec();
const Codec& wsd_codec();
const Codec& coap_codec();
const Codec& ard_codec();
const Codec& tftp_codec();

}  // namespace klartext::probe::detail
