#pragma once

#include "common/wire_protocol.h"

namespace reactord::client {

// The wire protocol as the client tools name it; defined once, with the server, in
// common/wire_protocol.h.
using common::kAckReply;
using common::parseProtocol;
using common::Protocol;
using common::protocolName;

}  // namespace reactord::client
