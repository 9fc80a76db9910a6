#include "common/owed_replies.h"

#include <algorithm>

namespace reactord::common {

std::string_view OwedReplies::next() const {
  if (count_ == 0) {
    return last_;
  }
  // The batch starts at a reply boundary: begin `offset_` bytes in, end at the last owed reply.
  const size_t replies = std::min<size_t>(count_, reply_->batch_replies);
  return std::string_view(reply_->batch + offset_, replies * reply_->reply.size() - offset_);
}

void OwedReplies::consume(size_t size) {
  if (count_ > 0) {
    const size_t reply_bytes = reply_->reply.size();
    const uint64_t replies_bytes = uint64_t{count_} * reply_bytes - offset_;
    if (size < replies_bytes) {
      const uint64_t total = offset_ + size;
      count_ -= static_cast<uint32_t>(total / reply_bytes);
      offset_ = static_cast<uint32_t>(total % reply_bytes);
      return;
    }
    size -= replies_bytes;
    count_ = 0;
    offset_ = 0;
  }
  last_.remove_prefix(std::min(size, last_.size()));
}

}  // namespace reactord::common
