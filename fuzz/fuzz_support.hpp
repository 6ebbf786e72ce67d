// Shared pieces of the fuzz targets: a sink that serializes every event, so JSON output is fuzzed too.
#pragma once

#include <string>

#include "formats/format.hpp"

namespace klartext::fuzz {

class SerializingSink : public formats::Sink {
 public:
  void on_event(const core::Event& e) override {
    json_.clear();
    e.append_json(json_);  // serialization must cope with whatever a parser produced
  }
  void on_issue(const formats::ParseIssue& i) override { json_ = i.to_json(); }

 private:
  std::string json_;
};

}  // namespace klartext::fuzz
