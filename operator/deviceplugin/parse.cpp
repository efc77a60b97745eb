// Parsing the text into exactly one YAML document, its aliases bounded.
//
// The consumers read the first document and ignore the rest: an empty document after
// it (a trailing "---") is fine, one with content is refused (it would be dropped).
// Anchors and aliases are read as the consumers read them, as long as the document,
// aliases add at most kMaxAliasNodes nodes and number at most kMaxAliases (a
// "billion laughs" text is small and expands to gigabytes).
//
// yaml-cpp 0.7's LoadAll() never ends on some invalid input (a stray "," after the
// first node makes every further document call return an empty document at the same
// place, and LoadAll collects them until memory runs out). Documents are therefore
// first counted with a bounded event pass, and anything after the first document that
// is not a "---" separated document is reported as invalid YAML.
#include "deviceplugin/detail.hpp"

#include <yaml-cpp/eventhandler.h>

#include <algorithm>
#include <exception>
#include <map>
#include <sstream>

namespace cpo::deviceplugin::detail {
namespace {

constexpr std::size_t kMaxDocuments = 16;

// Records where documents start and whether they hold anything but a null, and bounds
// what aliases expand to: the size of every anchored node is known when it ends, an
// alias adds that size again.
class DocumentScan : public YAML::EventHandler {
 public:
  std::vector<YAML::Mark> starts;
  std::vector<bool> has_content;
  std::size_t aliases = 0;
  std::size_t alias_nodes = 0;  // the nodes that aliases add when expanded
  std::optional<YAML::Mark> self_alias;  // an alias to a node that contains it

  void OnDocumentStart(const YAML::Mark& mark) override {
    starts.push_back(mark);
    has_content.push_back(false);
  }
  void OnDocumentEnd() override {}
  void OnNull(const YAML::Mark&, YAML::anchor_t anchor) override { leaf(anchor, false); }
  void OnAlias(const YAML::Mark& mark, YAML::anchor_t anchor) override {
    ++aliases;
    const auto it = sizes_.find(anchor);
    if (it == sizes_.end()) {
      if (!self_alias) self_alias = mark;
      return;
    }
    alias_nodes += it->second;
    if (!has_content.empty()) has_content.back() = true;
    if (!frames_.empty()) frames_.back().size += it->second;
  }
  void OnScalar(const YAML::Mark&, const std::string&, YAML::anchor_t anchor,
                const std::string&) override {
    leaf(anchor, true);
  }
  void OnSequenceStart(const YAML::Mark&, const std::string&, YAML::anchor_t anchor,
                       YAML::EmitterStyle::value) override {
    open(anchor);
  }
  void OnSequenceEnd() override { close(); }
  void OnMapStart(const YAML::Mark&, const std::string&, YAML::anchor_t anchor,
                  YAML::EmitterStyle::value) override {
    open(anchor);
  }
  void OnMapEnd() override { close(); }

 private:
  struct Frame {
    YAML::anchor_t anchor;
    std::size_t size;
  };

  void leaf(YAML::anchor_t anchor, bool content) {
    if (anchor != YAML::NullAnchor) sizes_[anchor] = 1;
    if (!frames_.empty()) frames_.back().size += 1;
    if (content && !has_content.empty()) has_content.back() = true;
  }
  void open(YAML::anchor_t anchor) {
    if (!has_content.empty()) has_content.back() = true;
    frames_.push_back(Frame{anchor, 1});
  }
  void close() {
    const Frame frame = frames_.back();
    frames_.pop_back();
    if (frame.anchor != YAML::NullAnchor) sizes_[frame.anchor] = frame.size;
    if (!frames_.empty()) frames_.back().size += frame.size;
  }

  std::vector<Frame> frames_;
  std::map<YAML::anchor_t, std::size_t> sizes_;
};

// The start of the line at `pos`, for messages.
std::string text_at(std::string_view text, int pos) {
  if (pos < 0 || static_cast<std::size_t>(pos) >= text.size()) return "";
  std::string_view rest = text.substr(static_cast<std::size_t>(pos));
  rest = rest.substr(0, std::min(rest.find('\n'), std::size_t{20}));
  return std::string(rest);
}

// Whether the last line before `pos` that is not blank or a comment is "..." (a
// document end marker): then a document may start without "---".
bool after_document_end(std::string_view text, int pos) {
  std::size_t end = std::min(static_cast<std::size_t>(std::max(pos, 0)), text.size());
  while (end > 0) {
    const std::size_t start = text.rfind('\n', end - 1);
    const std::size_t from = start == std::string_view::npos ? 0 : start + 1;
    std::string_view line = text.substr(from, end - from);
    while (!line.empty() && (line.back() == '\r' || line.back() == ' ' || line.back() == '\n')) line.remove_suffix(1);
    if (!line.empty() && line.front() != '#') return line.substr(0, 3) == "...";
    if (from == 0) return false;
    end = from - 1;
  }
  return false;
}

void report_more_documents(const YAML::Mark& second, Reporter& reporter) {
  reporter.error("",
                 "holds more than one YAML document: the consumers read only the first and drop "
                 "the others",
                 second);
}

void report_exception(const YAML::Exception& e, Reporter& reporter) {
  reporter.error("", "invalid YAML: " + e.msg, e.mark);
}

}  // namespace

std::optional<YAML::Node> parse_single_document(std::string_view text, Reporter& reporter) {
  const std::string owned(text);
  DocumentScan scan;
  try {
    std::istringstream stream(owned);
    YAML::Parser parser(stream);
    // A parser stuck in place returns empty documents at one place for ever: stop at a
    // few (they are told apart from "---" documents below).
    while (scan.starts.size() < kMaxDocuments && parser.HandleNextDocument(scan)) {
      if (scan.alias_nodes > kMaxAliasNodes || scan.aliases > kMaxAliases) break;
    }
  } catch (const YAML::Exception& e) {
    if (scan.starts.size() > 1) {  // in a later document, which the consumers never parse
      report_more_documents(scan.starts[1], reporter);
    } else {
      report_exception(e, reporter);
    }
    return std::nullopt;
  } catch (const std::exception& e) {
    reporter.add(Severity::Error, "", std::string("invalid YAML: ") + e.what(), 0, 0);
    return std::nullopt;
  }
  if (scan.alias_nodes > kMaxAliasNodes || scan.aliases > kMaxAliases) {
    reporter.add(Severity::Error, "",
                 "YAML aliases expand the config by more than " + std::to_string(kMaxAliasNodes) +
                     " nodes or use more than " + std::to_string(kMaxAliases) +
                     " aliases; refusing to read it (write the values out)",
                 0, 0);
    return std::nullopt;
  }
  if (scan.self_alias) {
    reporter.error("", "invalid YAML: an alias refers to the node that contains it", *scan.self_alias);
    return std::nullopt;
  }
  if (scan.starts.empty()) return YAML::Node();  // no document: the defaults
  for (std::size_t i = 1; i < scan.starts.size(); ++i) {
    const YAML::Mark& second = scan.starts[i];
    const std::string rest = text_at(text, second.pos);
    if (rest.compare(0, 3, "---") != 0 && !after_document_end(text, second.pos)) {
      reporter.error("",
                     "the YAML document ends before this text (check its indentation); the "
                     "consumers read the document and ignore the rest: " + quote(rest),
                     second);
      return std::nullopt;
    }
    if (scan.has_content[i] || i + 1 == kMaxDocuments) {
      report_more_documents(second, reporter);
      return std::nullopt;
    }
  }
  try {
    return YAML::Load(owned);
  } catch (const YAML::Exception& e) {
    report_exception(e, reporter);
  } catch (const std::exception& e) {
    reporter.add(Severity::Error, "", std::string("invalid YAML: ") + e.what(), 0, 0);
  }
  return std::nullopt;
}

}  // namespace cpo::deviceplugin::detail
