// Fuzz target: loading a holder index image (the store's snapshot). The input gets a valid checksum
// appended, so the fuzzer reaches the structure checks; an image that loads must answer lookups
// without reading outside its arrays.
#include <xxhash.h>

#include <cstddef>
#include <cstdint>
#include <string>

#include "customers/holder_index.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using klartext::core::IpAddress;
  using klartext::core::Timestamp;
  std::string image(reinterpret_cast<const char*>(data), size);
  std::uint64_t sum = XXH3_64bits(image.data(), image.size());
  image.append(reinterpret_cast<const char*>(&sum), sizeof sum);
  auto index = klartext::customers::HolderIndex::deserialize(image);
  if (!index) return 0;
  const IpAddress probes[] = {*IpAddress::parse("192.0.2.1"), *IpAddress::parse("198.51.100.7"),
                              *IpAddress::parse("2001:db8:1::5"), *IpAddress::parse("0.0.0.0")};
  for (const auto& ip : probes) {
    for (std::int64_t t : {0LL, 1'800'000'000'000'000LL}) {
      if (auto h = index->lookup(ip, Timestamp::from_micros(t), 123)) (void)index->customer_id(h->customer);
    }
  }
  return 0;
}
