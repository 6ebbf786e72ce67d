// Mail stores as input sources: Maildir folders (new/ and cur/) and mbox files.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "intake/sources.hpp"

namespace klartext::intake {

// Reads every mail of a Maildir: first cur/ (already processed, read again), then new/. A mail in
// new/ moves to cur/ (with the ":2," info suffix) only after `fn` returned normally for it.
// Returns the number of mails handed to `fn`; failures go to `on_error` and leave the mail in new/.
std::size_t for_each_maildir_mail(const std::string& dir, const InputFn& fn, const SourceErrorFn& on_error,
                                  std::size_t& unreadable);

// Reads every mail of an mbox file (From_ lines split messages; ">From " lines are unescaped,
// mboxrd style). Each mail's input name is "<path>#<n>" (n from 1).
std::size_t for_each_mbox_mail(const std::string& path, const InputFn& fn, const SourceErrorFn& on_error,
                               std::size_t& unreadable);

namespace detail {
// Splits mbox bytes into messages (views into `data`, From_ line removed). Exposed for tests.
std::vector<std::string_view> split_mbox(std::string_view data);
// Removes one '>' from every line that matches ^>+From  . Returns true when it changed anything.
bool unescape_mbox_from(std::string_view message, std::string& out);
}  // namespace detail

}  // namespace klartext::intake
