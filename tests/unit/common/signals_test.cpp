#include "common/signals.h"

#include <gtest/gtest.h>

#include <csignal>

using namespace draincheck;

TEST(SignalFromName, EverySupportedName) {
    EXPECT_EQ(signal_from_name("TERM"), SIGTERM);
    EXPECT_EQ(signal_from_name("INT"), SIGINT);
    EXPECT_EQ(signal_from_name("QUIT"), SIGQUIT);
    EXPECT_EQ(signal_from_name("HUP"), SIGHUP);
    EXPECT_EQ(signal_from_name("KILL"), SIGKILL);
    EXPECT_EQ(signal_from_name("STOP"), SIGSTOP);
    EXPECT_EQ(signal_from_name("CONT"), SIGCONT);
    EXPECT_EQ(signal_from_name("USR1"), SIGUSR1);
    EXPECT_EQ(signal_from_name("USR2"), SIGUSR2);
}

TEST(SignalFromName, AnyCaseWithOrWithoutSig) {
    for (const char* name : {"TERM", "term", "Term", "SIGTERM", "sigterm", "SigTerm", "sigTERM"})
        EXPECT_EQ(signal_from_name(name), SIGTERM) << name;
    EXPECT_EQ(signal_from_name("sigusr1"), SIGUSR1);
}

TEST(SignalFromName, RejectsOtherText) {
    for (const char* bad : {"", "SIG", "TERMINATE", "SIGSIGTERM", " TERM", "TERM ", "15", "SIG15", "SIGRTMIN",
                            "WINCH", "SIGWINCH", "USR3", "TE RM"})
        EXPECT_FALSE(signal_from_name(bad).has_value()) << '"' << bad << '"';
}

TEST(SignalName, NamesWithoutSigAndNumbersForTheRest) {
    EXPECT_EQ(signal_name(SIGTERM), "TERM");
    EXPECT_EQ(signal_name(SIGKILL), "KILL");
    EXPECT_EQ(signal_name(SIGSTOP), "STOP");
    EXPECT_EQ(signal_name(SIGWINCH), "SIG" + std::to_string(SIGWINCH));
}

TEST(SupportedSignalNames, ListsEveryNameOnceAndEachRoundTrips) {
    EXPECT_EQ(supported_signal_names(),
              (std::vector<std::string>{"TERM", "INT", "QUIT", "HUP", "KILL", "STOP", "CONT", "USR1", "USR2"}));
    for (const auto& name : supported_signal_names()) {
        auto signo = signal_from_name(name);
        ASSERT_TRUE(signo.has_value()) << name;
        EXPECT_EQ(signal_name(*signo), name);
    }
}
