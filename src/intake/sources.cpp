// Enumerates inputs from every kind of source.
#include "intake/sources.hpp"

#include "intake/file_source.hpp"
#include "intake/mail_source.hpp"

namespace klartext::intake {

SourceStats for_each_input(const SourceSpec& spec, const InputFn& fn, const SourceErrorFn& on_error) {
  SourceStats stats;
  auto paths = expand_paths(spec.paths, [&](const std::string& p, const std::string& why) {
    ++stats.unreadable;
    on_error(p, why);
  });
  for (const auto& path : paths) {
    try {
      with_file_input(path, [&](const formats::Input& in) {
        ++stats.inputs;
        fn(in);
      });
    } catch (const std::exception& e) {
      ++stats.unreadable;
      on_error(path, e.what());
    }
  }
  for (const auto& m : spec.maildirs) stats.inputs += for_each_maildir_mail(m, fn, on_error, stats.unreadable);
  for (const auto& m : spec.mboxes) stats.inputs += for_each_mbox_mail(m, fn, on_error, stats.unreadable);
  return stats;
}

}  // namespace klartext::intake
