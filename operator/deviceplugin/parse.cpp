// Parsing the text into exactly one YAML document.
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
#include <sstream>

namespace cpo::deviceplugin::detail {
namespace {

// Records where documents start; ignores their content.
class DocumentCounter : public YAML::EventHandler {
 public:
  std::vector<YAML::Mark> starts;

  void OnDocumentStart(const YAML::Mark& mark) override { starts.push_back(mark); }
  void OnDocumentEnd() override {}
  void OnNull(const YAML::Mark&, YAML::anchor_t) override {}
  void OnAlias(const YAML::Mark&, YAML::anchor_t) override {}
  void OnScalar(const YAML::Mark&, const std::string&, YAML::anchor_t,
                const std::string&) override {}
  void OnSequenceStart(const YAML::Mark&, const std::string&, YAML::anchor_t,
                       YAML::EmitterStyle::value) override {}
  void OnSequenceEnd() override {}
  void OnMapStart(const YAML::Mark&, const std::string&, YAML::anchor_t,
                  YAML::EmitterStyle::value) override {}
  void OnMapEnd() override {}
};

// The start of the line at `pos`, for messages.
std::string text_at(std::string_view text, int pos) {
  if (pos < 0 || static_cast<std::size_t>(pos) >= text.size()) return "";
  std::string_view rest = text.substr(static_cast<std::size_t>(pos));
  rest = rest.substr(0, std::min(rest.find('\n'), std::size_t{20}));
  return std::string(rest);
}

void report_exception(const YAML::Exception& e, Reporter& reporter) {
  reporter.error("", "invalid YAML: " + e.msg, e.mark);
}

}  // namespace

std::optional<YAML::Node> parse_single_document(std::string_view text, Reporter& reporter) {
  const std::string owned(text);
  DocumentCounter counter;
  try {
    std::istringstream stream(owned);
    YAML::Parser parser(stream);
    // Three documents are enough to tell a second document from a parser stuck in place.
    while (counter.starts.size() < 3 && parser.HandleNextDocument(counter)) {
    }
  } catch (const YAML::Exception& e) {
    report_exception(e, reporter);
    return std::nullopt;
  } catch (const std::exception& e) {
    reporter.add(Severity::Error, "", std::string("invalid YAML: ") + e.what(), 0, 0);
    return std::nullopt;
  }
  if (counter.starts.empty()) return YAML::Node();  // no document: the defaults
  if (counter.starts.size() > 1) {
    const YAML::Mark& second = counter.starts[1];
    const std::string rest = text_at(text, second.pos);
    if (rest.compare(0, 3, "---") != 0) {
      reporter.error("", "invalid YAML: unexpected text " + quote(rest), second);
    } else {
      reporter.error("", "holds more than one YAML document; a config must be a single document",
                     second);
    }
    return std::nullopt;
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
