#include "tests/client/flat_json.h"

#include <cctype>

namespace reactord::client::testing {
namespace {

class Parser {
 public:
  explicit Parser(const std::string& text) : text_(text) {}

  bool object(const std::string& prefix, std::map<std::string, std::string>* out) {
    if (!consume('{')) {
      return false;
    }
    if (consume('}')) {
      return true;
    }
    do {
      std::string key;
      if (!string(&key) || !consume(':')) {
        return false;
      }
      const std::string path = prefix.empty() ? key : prefix + "." + key;
      if (peek() == '{') {
        if (!object(path, out)) {
          return false;
        }
      } else {
        std::string value;
        if (!(peek() == '"' ? string(&value) : number(&value)) || out->count(path) != 0) {
          return false;
        }
        (*out)[path] = value;
      }
    } while (consume(','));
    return consume('}');
  }

  bool atEnd() {
    skipSpace();
    return at_ == text_.size();
  }

 private:
  void skipSpace() {
    while (at_ < text_.size() && std::isspace(static_cast<unsigned char>(text_[at_]))) {
      ++at_;
    }
  }
  char peek() {
    skipSpace();
    return at_ < text_.size() ? text_[at_] : '\0';
  }
  bool consume(char c) {
    if (peek() != c) {
      return false;
    }
    ++at_;
    return true;
  }
  bool string(std::string* value) {
    if (!consume('"')) {
      return false;
    }
    while (at_ < text_.size() && text_[at_] != '"') {
      if (text_[at_] == '\\') {
        return false;  // reactor-bench never escapes
      }
      *value += text_[at_++];
    }
    return at_++ < text_.size();
  }
  bool number(std::string* value) {
    skipSpace();
    const size_t start = at_;
    while (at_ < text_.size() &&
           (std::isdigit(static_cast<unsigned char>(text_[at_])) || text_[at_] == '.' ||
            text_[at_] == '-' || text_[at_] == 'e' || text_[at_] == '+')) {
      ++at_;
    }
    *value = text_.substr(start, at_ - start);
    return !value->empty();
  }

  const std::string& text_;
  size_t at_ = 0;
};

}  // namespace

std::optional<std::map<std::string, std::string>> parseFlatJson(const std::string& text) {
  Parser parser(text);
  std::map<std::string, std::string> out;
  if (!parser.object("", &out) || !parser.atEnd()) {
    return std::nullopt;
  }
  return out;
}

}  // namespace reactord::client::testing
