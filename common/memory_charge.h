#pragma once

#include <cstdint>

#include "common/memory_account.h"

namespace reactord::common {

// What one holder (a connection) has charged to its worker's MemoryAccount: every add() and
// remove() goes to the account, and the destructor gives back whatever is still charged. Owned by
// the holder, on the account's thread.
class MemoryCharge {
 public:
  MemoryCharge(MemoryAccount& account, uint64_t bytes) : account_(account), bytes_(bytes) {
    account_.add(bytes);
  }
  ~MemoryCharge() { account_.remove(bytes_); }
  MemoryCharge(const MemoryCharge&) = delete;
  MemoryCharge& operator=(const MemoryCharge&) = delete;

  void add(uint64_t bytes) {
    bytes_ += bytes;
    account_.add(bytes);
  }
  void remove(uint64_t bytes) {
    bytes_ -= bytes;
    account_.remove(bytes);
  }
  uint64_t bytes() const { return bytes_; }

 private:
  MemoryAccount& account_;
  uint64_t bytes_;
};

}  // namespace reactord::common
