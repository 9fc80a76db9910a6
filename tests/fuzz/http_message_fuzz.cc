// libFuzzer target for the admin endpoint's request-head parser: no crash or out-of-bounds read on
// any input; a complete head lies within the input and the limit, with its method and path inside
// it (or the path "/" of "http://host"); and a verdict, once reached on a prefix (as the admin
// connection reads it piece by piece), is the same on the whole input.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "common/http_message.h"

namespace {

using reactord::common::HttpParse;
using reactord::common::HttpRequestHead;

bool inside(std::string_view part, std::string_view whole, size_t size) {
  return part.data() >= whole.data() && part.data() + part.size() <= whole.data() + size;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 2) {
    return 0;
  }
  const size_t max = 1 + (data[0] | (data[1] << 8)) % 1024;
  const std::string_view input(reinterpret_cast<const char*>(data) + 2, size - 2);
  HttpRequestHead head;
  const HttpParse whole = reactord::common::parseHttpRequestHead(input, max, &head);
  if (whole == HttpParse::kComplete &&
      (head.size > input.size() || head.size > max || head.method.empty() ||
       !inside(head.method, input, head.size) ||
       // an absolute-form target without a path has the path "/", not a view into the input
       (head.path != "/" && !inside(head.path, input, head.size)))) {
    std::abort();
  }
  if (whole == HttpParse::kIncomplete && input.size() >= max) {
    std::abort();  // a full buffer must get a verdict
  }
  for (size_t cut = 0; cut <= input.size(); cut += 1 + cut / 4) {
    HttpRequestHead partial;
    const HttpParse early =
        reactord::common::parseHttpRequestHead(input.substr(0, cut), max, &partial);
    if (early != HttpParse::kIncomplete &&
        (early != whole || (early == HttpParse::kComplete &&
                            (partial.size != head.size || partial.method != head.method ||
                             partial.path != head.path)))) {
      std::abort();
    }
  }
  return 0;
}
