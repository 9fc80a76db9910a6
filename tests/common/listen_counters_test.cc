#include "common/listen_counters.h"

#include <gtest/gtest.h>

#include <string>

namespace reactord::common {
namespace {

// /proc/net/netstat as a Debian 12 kernel (6.x) writes it, the TcpExt and IpExt pairs; ListenDrops
// was raised from 2357 to 2360 so that the two counters differ.
const std::string kTcpExtNames =
    "TcpExt: SyncookiesSent SyncookiesRecv SyncookiesFailed EmbryonicRsts PruneCalled "
    "RcvPruned OfoPruned OutOfWindowIcmps LockDroppedIcmps ArpFilter TW TWRecycled "
    "TWKilled PAWSActive PAWSEstab BeyondWindow TSEcrRejected PAWSOldAck PAWSTimewait "
    "DelayedACKs DelayedACKLocked DelayedACKLost ListenOverflows ListenDrops TCPHPHits "
    "TCPPureAcks TCPHPAcks TCPRenoRecovery TCPSackRecovery TCPSACKReneging TCPSACKReorder "
    "TCPRenoReorder TCPTSReorder TCPFullUndo TCPPartialUndo TCPDSACKUndo TCPLossUndo "
    "TCPLostRetransmit TCPRenoFailures TCPSackFailures TCPLossFailures TCPFastRetrans "
    "TCPSlowStartRetrans TCPTimeouts TCPLossProbes TCPLossProbeRecovery "
    "TCPRenoRecoveryFail TCPSackRecoveryFail TCPRcvCollapsed TCPBacklogCoalesce "
    "TCPDSACKOldSent TCPDSACKOfoSent TCPDSACKRecv TCPDSACKOfoRecv TCPAbortOnData "
    "TCPAbortOnClose TCPAbortOnMemory TCPAbortOnTimeout TCPAbortOnLinger TCPAbortFailed "
    "TCPMemoryPressures TCPMemoryPressuresChrono TCPSACKDiscard TCPDSACKIgnoredOld "
    "TCPDSACKIgnoredNoUndo TCPSpuriousRTOs TCPMD5NotFound TCPMD5Unexpected TCPMD5Failure "
    "TCPSackShifted TCPSackMerged TCPSackShiftFallback TCPBacklogDrop PFMemallocDrop "
    "TCPMinTTLDrop TCPDeferAcceptDrop IPReversePathFilter TCPTimeWaitOverflow "
    "TCPReqQFullDoCookies TCPReqQFullDrop TCPRetransFail TCPRcvCoalesce TCPOFOQueue "
    "TCPOFODrop TCPOFOMerge TCPChallengeACK TCPSYNChallenge TCPFastOpenActive "
    "TCPFastOpenActiveFail TCPFastOpenPassive TCPFastOpenPassiveFail "
    "TCPFastOpenListenOverflow TCPFastOpenCookieReqd TCPFastOpenBlackhole "
    "TCPSpuriousRtxHostQueues BusyPollRxPackets TCPAutoCorking TCPFromZeroWindowAdv "
    "TCPToZeroWindowAdv TCPWantZeroWindowAdv TCPSynRetrans TCPOrigDataSent "
    "TCPHystartTrainDetect TCPHystartTrainCwnd TCPHystartDelayDetect TCPHystartDelayCwnd "
    "TCPACKSkippedSynRecv TCPACKSkippedPAWS TCPACKSkippedSeq TCPACKSkippedFinWait2 "
    "TCPACKSkippedTimeWait TCPACKSkippedChallenge TCPWinProbe TCPKeepAlive TCPMTUPFail "
    "TCPMTUPSuccess TCPDelivered TCPDeliveredCE TCPAckCompressed TCPZeroWindowDrop "
    "TCPRcvQDrop TCPWqueueTooBig TCPFastOpenPassiveAltKey TcpTimeoutRehash "
    "TcpDuplicateDataRehash TCPDSACKRecvSegs TCPDSACKIgnoredDubious TCPMigrateReqSuccess "
    "TCPMigrateReqFailure TCPPLBRehash TCPAORequired TCPAOBad TCPAOKeyNotFound TCPAOGood "
    "TCPAODroppedIcmps\n";
const std::string kTcpExtValues =
    "TcpExt: 0 0 0 0 25830 11687 2922 0 0 0 385617 19 0 0 0 40180 0 10 77 261796 18 59399 "
    "2357 2360 11113950 2380314 11159410 0 2435 2424 6 0 1 5 1 3 15 26326 0 0 221 2433 794 "
    "6260 70478 860 0 2423 10124 47562 59399 0 58136 0 43936 37085 0 0 0 0 5 11892 0 0 "
    "52200 0 0 0 0 0 466 2487 0 0 0 0 0 0 0 0 0 1273550 2936 1510 0 220 130 0 0 0 0 0 0 0 "
    "2 0 3 57986 100597 493647 1514 15044812 0 0 0 0 0 0 60222 0 0 0 242826 0 0 0 15509404 "
    "0 0 0 20360 0 0 6130 0 58137 0 0 0 0 0 0 0 0 0\n";
const std::string kIpExt =
    "IpExt: InNoRoutes InTruncatedPkts InMcastPkts OutMcastPkts InBcastPkts OutBcastPkts InOctets "
    "OutOctets InMcastOctets OutMcastOctets InBcastOctets OutBcastOctets InCsumErrors InNoECTPkts "
    "InECT1Pkts InECT0Pkts InCEPkts ReasmOverlaps\n"
    "IpExt: 0 0 0 2 0 0 93241110939 92825782702 0 80 0 0 0 19422261 0 0 0 0\n";

TEST(ListenCountersTest, ParsesTheCapturedFile) {
  std::string error;
  const auto counters = parseListenCounters(kTcpExtNames + kTcpExtValues + kIpExt, &error);
  ASSERT_TRUE(counters.has_value()) << error;
  EXPECT_EQ(counters->overflows, 2357u);
  EXPECT_EQ(counters->drops, 2360u);
}

TEST(ListenCountersTest, FindsTcpExtAfterOtherPairsAndWithoutTheLastNewline) {
  std::string error;
  std::string text = kIpExt + kTcpExtNames + kTcpExtValues;
  text.pop_back();
  const auto counters = parseListenCounters(text, &error);
  ASSERT_TRUE(counters.has_value()) << error;
  EXPECT_EQ(counters->overflows, 2357u);
}

TEST(ListenCountersTest, MalformedFilesAreErrorsNotZeros) {
  const struct {
    const char* what;
    std::string text;
  } cases[] = {
      {"empty", ""},
      {"no TcpExt", kIpExt},
      {"names without values", kTcpExtNames},
      {"names then another pair", kTcpExtNames + kIpExt},
      {"a value missing", kTcpExtNames + kTcpExtValues.substr(0, kTcpExtValues.rfind(' ')) + "\n"},
      {"a counter missing", "TcpExt: ListenOverflows Other\nTcpExt: 1 2\n"},
      {"a counter only inside another name",
       "TcpExt: XListenOverflows ListenDropsY ListenDrops\nTcpExt: 1 2 3\n"},
      {"not a number", "TcpExt: ListenOverflows ListenDrops\nTcpExt: 1 x2\n"},
      {"negative", "TcpExt: ListenOverflows ListenDrops\nTcpExt: -1 2\n"},
      {"past 64 bits", "TcpExt: ListenOverflows ListenDrops\nTcpExt: 1 18446744073709551616\n"},
      {"truncated in the middle", kTcpExtNames + kTcpExtValues.substr(0, 40)},
  };
  for (const auto& c : cases) {
    std::string error;
    EXPECT_FALSE(parseListenCounters(c.text, &error).has_value()) << c.what;
    EXPECT_FALSE(error.empty()) << c.what;
  }
}

TEST(ListenCountersTest, ReadsThisNamespacesFile) {
  std::string error;
  const auto counters = readListenCounters(&error);
  ASSERT_TRUE(counters.has_value()) << error;
  EXPECT_GE(counters->drops, counters->overflows);  // drops include the overflows
}

TEST(ListenCountersTest, MissingFileIsAnErrorNamingIt) {
  std::string error;
  EXPECT_FALSE(readListenCounters(&error, "/nonexistent/netstat").has_value());
  EXPECT_NE(error.find("/nonexistent/netstat"), std::string::npos) << error;
}

}  // namespace
}  // namespace reactord::common
