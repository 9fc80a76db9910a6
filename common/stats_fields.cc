#include "common/stats_fields.h"

namespace reactord::common {
namespace {

constexpr const char* kRejectedHelp =
    "Connections closed at once, without being served, by the limit named in reason.";
constexpr const char* kClosedByHelp =
    "Connections the server closed for the reason given (a subset of connections_closed).";
constexpr const char* kErrorsHelp =
    "Errors by kind: connection = a read or write error ended a connection (resets and the like); "
    "accept = a failed accept() call.";

constexpr const char* kOverloadHelp =
    "Overload actions begun as buffered memory rose past the marks of a worker's share of "
    "--max_buffered_bytes, once per worker per episode (close: one round of closing "
    "connections).";

constexpr StatsField kFields[] = {
    {"accepted", "connections_accepted", nullptr, nullptr, "Connections taken into service.",
     &StatsSnapshot::accepted},
    {"closed", "connections_closed", nullptr, nullptr,
     "Connections that left service, for any reason.", &StatsSnapshot::closed},
    {"rejected", "connections_rejected", "reason", "max_connections", kRejectedHelp,
     &StatsSnapshot::rejected},
    {"per_ip_rejected", "connections_rejected", "reason", "max_connections_per_ip", kRejectedHelp,
     &StatsSnapshot::per_ip_rejected},
    {"idle_closed", "connections_closed_by_server", "reason", "idle_timeout", kClosedByHelp,
     &StatsSnapshot::idle_closed},
    {"forced_closed", "connections_closed_by_server", "reason", "shutdown", kClosedByHelp,
     &StatsSnapshot::forced_closed},
    {"too_long", "connections_closed_by_server", "reason", "message_too_long", kClosedByHelp,
     &StatsSnapshot::too_long},
    {"write_timeout_closed", "connections_closed_by_server", "reason", "write_timeout",
     kClosedByHelp, &StatsSnapshot::write_timeout_closed},
    {"message_timeout_closed", "connections_closed_by_server", "reason", "message_timeout",
     kClosedByHelp, &StatsSnapshot::message_timeout_closed},
    {"overload_closed", "connections_closed_by_server", "reason", "overload", kClosedByHelp,
     &StatsSnapshot::overload_closed},
    {"conn_errors", "errors", "kind", "connection", kErrorsHelp, &StatsSnapshot::conn_errors},
    {"accept_errors", "errors", "kind", "accept", kErrorsHelp, &StatsSnapshot::accept_errors},
    {"reads", "reads", nullptr, nullptr, "read() calls that returned data.", &StatsSnapshot::reads},
    {"messages", "messages", nullptr, nullptr, "Acknowledged messages (ack protocol).",
     &StatsSnapshot::messages},
    {"bytes_in", "received_bytes", nullptr, nullptr, "Bytes read from clients.",
     &StatsSnapshot::bytes_in},
    {"bytes_out", "sent_bytes", nullptr, nullptr, "Bytes written to clients.",
     &StatsSnapshot::bytes_out},
    {"bytes_discarded", "discarded_bytes", nullptr, nullptr,
     "Bytes read and dropped while waiting for the EOF of a client the server closed "
     "(included in received_bytes).",
     &StatsSnapshot::bytes_discarded},
    {"overload_pause_reading", "overload_actions", "action", "pause_reading", kOverloadHelp,
     &StatsSnapshot::overload_pause_reading},
    {"overload_stop_accepting", "overload_actions", "action", "stop_accepting", kOverloadHelp,
     &StatsSnapshot::overload_stop_accepting},
    {"overload_close_rounds", "overload_actions", "action", "close", kOverloadHelp,
     &StatsSnapshot::overload_close_rounds},
};

}  // namespace

std::span<const StatsField> statsFields() { return kFields; }

}  // namespace reactord::common
