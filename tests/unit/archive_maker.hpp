// Test helper: one member packed in memory as zip (deflated or stored) or gzip, with libarchive.
#pragma once

#include <archive.h>
#include <archive_entry.h>

#include <memory>
#include <string>
#include <vector>

namespace klartext::testing {

enum class Packing { kZip, kZipStored, kGzip };

inline std::string pack_member(const std::string& name, const std::string& content, Packing packing) {
  struct FreeArchive {
    void operator()(archive* a) const { archive_write_free(a); }
  };
  struct FreeEntry {
    void operator()(archive_entry* e) const { archive_entry_free(e); }
  };
  std::vector<char> buf(content.size() + (1 << 20));
  std::size_t used = 0;
  std::unique_ptr<archive, FreeArchive> a(archive_write_new());
  if (packing == Packing::kGzip) {
    archive_write_set_format_raw(a.get());
    archive_write_add_filter_gzip(a.get());
  } else {
    archive_write_set_format_zip(a.get());
    if (packing == Packing::kZipStored) archive_write_set_format_option(a.get(), "zip", "compression", "store");
  }
  archive_write_open_memory(a.get(), buf.data(), buf.size(), &used);
  std::unique_ptr<archive_entry, FreeEntry> e(archive_entry_new());
  archive_entry_set_pathname(e.get(), name.c_str());
  archive_entry_set_size(e.get(), static_cast<la_int64_t>(content.size()));
  archive_entry_set_filetype(e.get(), AE_IFREG);
  archive_entry_set_perm(e.get(), 0644);
  archive_write_header(a.get(), e.get());
  archive_write_data(a.get(), content.data(), content.size());
  archive_write_close(a.get());
  return std::string(buf.data(), used);
}

}  // namespace klartext::testing
