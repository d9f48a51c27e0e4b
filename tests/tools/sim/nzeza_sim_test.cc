// nzeza-sim as a process: it prints its ports as one JSON line, serves TLS that a client verifies
// with the --cert-out file (or the [server] cert_out one), exits 0 on SIGTERM (and when
// --duration runs out), takes every fault type in its configuration, and refuses a bad
// configuration with a message naming the key.
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "../../venues/sim/server_test_util.h"
#include "../../venues/sim/sim_test_util.h"
#include "gtest/gtest.h"
#include "nzeza/net/tls.h"

namespace nzeza::sim {
namespace {

using testing::Clock;
using testing::JsonInt;
using testing::JsonStr;

// A child process with stdout and stderr on pipes.
class Child {
 public:
  explicit Child(std::vector<std::string> args) {
    int out[2], err[2];
    if (::pipe(out) != 0 || ::pipe(err) != 0) return;
    // Everything the child needs is built before fork (no allocation after it).
    std::string bin = NZEZA_SIM_BIN;
    std::vector<char*> argv;
    argv.push_back(bin.data());
    for (std::string& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    pid_ = ::fork();
    if (pid_ == 0) {
      ::dup2(out[1], 1);
      ::dup2(err[1], 2);
      ::close(out[0]);
      ::close(err[0]);
      ::execv(bin.c_str(), argv.data());
      ::_exit(127);
    }
    ::close(out[1]);
    ::close(err[1]);
    out_ = out[0];
    err_ = err[0];
    ::fcntl(out_, F_SETFL, O_NONBLOCK);
    ::fcntl(err_, F_SETFL, O_NONBLOCK);
  }
  ~Child() {
    if (pid_ > 0 && status_ == -2) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
    }
    if (out_ >= 0) ::close(out_);
    if (err_ >= 0) ::close(err_);
  }

  // The first stdout line (without the newline), or "" after `timeout_ms`.
  std::string ReadLine(int timeout_ms = 20'000) {
    const auto deadline = Clock::now() + std::chrono::milliseconds(timeout_ms);
    while (Clock::now() < deadline) {
      const size_t nl = out_text_.find('\n');
      if (nl != std::string::npos) return out_text_.substr(0, nl);
      pollfd p{out_, POLLIN, 0};
      if (::poll(&p, 1, 50) > 0) {
        char buf[4096];
        const ssize_t n = ::read(out_, buf, sizeof(buf));
        if (n > 0) out_text_.append(buf, static_cast<size_t>(n));
        if (n == 0) break;
      }
    }
    return {};
  }

  // Waits (bounded) for the exit; the exit status, or -1 if it did not exit normally in time.
  int Wait(int timeout_ms = 10'000) {
    const auto deadline = Clock::now() + std::chrono::milliseconds(timeout_ms);
    while (Clock::now() < deadline) {
      Drain();
      int st = 0;
      const pid_t r = ::waitpid(pid_, &st, WNOHANG);
      if (r == pid_) {
        status_ = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
        Drain();
        return status_;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return -1;
  }

  void Signal(int sig) { ::kill(pid_, sig); }
  bool started() const { return pid_ > 0; }
  const std::string& err() const { return err_text_; }

 private:
  void Drain() {
    char buf[4096];
    ssize_t n;
    while ((n = ::read(err_, buf, sizeof(buf))) > 0) err_text_.append(buf, static_cast<size_t>(n));
    while ((n = ::read(out_, buf, sizeof(buf))) > 0) out_text_.append(buf, static_cast<size_t>(n));
  }

  pid_t pid_ = -1;
  int out_ = -1, err_ = -1;
  int status_ = -2;
  std::string out_text_, err_text_;
};

std::string TempPath(const char* name) {
  return ::testing::TempDir() + "/" + name + "." + std::to_string(::getpid());
}

std::string WriteConfig(const char* name, const std::string& text) {
  const std::string path = TempPath(name);
  std::ofstream(path) << text;
  return path;
}

TEST(NzezaSim, PrintsPortsServesTlsAndExitsZeroOnSigterm) {
  const std::string ca = TempPath("nzeza_sim_ca.pem");
  ::unlink(ca.c_str());
  const std::string config = WriteConfig("nzeza_sim_ok.toml", R"(
seed = 7
[server]
tick_us = 1000
[[products]]
product_id = "BTC-USD"
start_price = "30000.00"
volatility_bps = 10
)");
  Child sim({"--config", config, "--cert-out", ca, "--seed", "11"});
  ASSERT_TRUE(sim.started());
  const std::string line = sim.ReadLine();
  ASSERT_FALSE(line.empty()) << "no ports line; stderr: " << sim.err();
  const int64_t ws = JsonInt(line, "ws_port");
  const int64_t rest = JsonInt(line, "rest_port");
  const int64_t admin = JsonInt(line, "admin_port");
  EXPECT_GT(ws, 0) << line;
  EXPECT_GT(rest, 0) << line;
  EXPECT_GT(admin, 0) << line;
  EXPECT_EQ(JsonStr(line, "ca_file"), ca);
  EXPECT_EQ(JsonStr(line, "jwt_host"), "127.0.0.1:" + std::to_string(rest));

  // A verifying client that knows only the CA file nzeza-sim wrote.
  TlsClientOptions trust;
  trust.ca_file = ca;
  absl::StatusOr<TlsContext> tls = MakeClientTlsContext(trust);
  ASSERT_TRUE(tls.ok()) << tls.status();
  testing::WsProbe p(static_cast<uint16_t>(ws), *tls,
                     R"({"type":"subscribe","channel":"level2","product_ids":["BTC-USD"]})");
  ASSERT_TRUE(p.PollUntil([&] { return p.CountChannel("l2_data") >= 1; }, 15'000))
      << "frames: " << p.frames.size() << " last close: " << p.last_close
      << " stderr: " << sim.err();
  testing::HttpResult h = testing::AdminGet(static_cast<uint16_t>(admin), "/admin/health");
  EXPECT_EQ(h.status, 200) << h.body;
  EXPECT_EQ(JsonInt(h.body, "ws_open"), 1) << h.body;

  sim.Signal(SIGTERM);
  const auto t0 = Clock::now();
  EXPECT_EQ(sim.Wait(), 0) << sim.err();
  EXPECT_LT(Clock::now() - t0, std::chrono::seconds(5));
  EXPECT_NE(sim.err().find("SIGTERM"), std::string::npos) << sim.err();
  // The client sees the connection end.
  EXPECT_TRUE(p.PollUntil([&] { return p.closes >= 1; }, 5000));
  ::unlink(ca.c_str());
  ::unlink(config.c_str());
}

// A verifying client trusting only `ca_file` gets market data from `ws_port`.
void ExpectTlsTrusting(const std::string& ca_file, int64_t ws_port, const Child& sim) {
  TlsClientOptions trust;
  trust.ca_file = ca_file;
  absl::StatusOr<TlsContext> tls = MakeClientTlsContext(trust);
  ASSERT_TRUE(tls.ok()) << tls.status();
  testing::WsProbe p(static_cast<uint16_t>(ws_port), *tls,
                     R"({"type":"subscribe","channel":"level2","product_ids":["BTC-USD"]})");
  EXPECT_TRUE(p.PollUntil([&] { return p.CountChannel("l2_data") >= 1; }, 15'000))
      << "frames: " << p.frames.size() << " last close: " << p.last_close
      << " stderr: " << sim.err();
}

TEST(NzezaSim, CertOutKeyWritesTheCaFileNextToTheConfig) {
  // A relative cert_out is relative to the configuration file, as cert_file is; the ports line
  // names the file.
  const std::string dir = TempPath("nzeza_sim_certout_dir");
  ASSERT_EQ(::system(("rm -rf '" + dir + "' && mkdir -p '" + dir + "'").c_str()), 0);
  const std::string config = dir + "/sim.toml";
  std::ofstream(config) << "[server]\ncert_out = \"ca-from-key.pem\"\n";
  const std::string expected = dir + "/ca-from-key.pem";
  {
    Child sim({"--config", config});
    ASSERT_TRUE(sim.started());
    const std::string line = sim.ReadLine();
    ASSERT_FALSE(line.empty()) << "no ports line; stderr: " << sim.err();
    EXPECT_EQ(JsonStr(line, "ca_file"), expected) << line;
    std::ifstream f(expected);
    ASSERT_TRUE(f.good()) << expected << " not written";
    ExpectTlsTrusting(expected, JsonInt(line, "ws_port"), sim);
    sim.Signal(SIGTERM);
    EXPECT_EQ(sim.Wait(), 0) << sim.err();
  }
  // The flag wins over the key.
  ::unlink(expected.c_str());
  const std::string flag = dir + "/ca-from-flag.pem";
  {
    Child sim({"--config", config, "--cert-out", flag});
    const std::string line = sim.ReadLine();
    ASSERT_FALSE(line.empty()) << "no ports line; stderr: " << sim.err();
    EXPECT_EQ(JsonStr(line, "ca_file"), flag) << line;
    EXPECT_TRUE(std::ifstream(flag).good());
    EXPECT_FALSE(std::ifstream(expected).good()) << "the key's file was written too";
    ExpectTlsTrusting(flag, JsonInt(line, "ws_port"), sim);
    sim.Signal(SIGTERM);
    EXPECT_EQ(sim.Wait(), 0) << sim.err();
  }
  // An absolute path is taken as it is.
  const std::string abs = dir + "/abs-ca.pem";
  const std::string config2 = dir + "/sim2.toml";
  std::ofstream(config2) << "[server]\ncert_out = \"" << abs << "\"\n";
  {
    Child sim({"--config", config2, "--duration", "1"});
    const std::string line = sim.ReadLine();
    EXPECT_EQ(JsonStr(line, "ca_file"), abs) << line << sim.err();
    EXPECT_EQ(sim.Wait(), 0) << sim.err();
    EXPECT_TRUE(std::ifstream(abs).good());
  }
  ASSERT_EQ(::system(("rm -rf '" + dir + "'").c_str()), 0);
}

TEST(NzezaSim, TakesEveryFaultTypeInItsSchedule) {
  std::string toml =
      "[faults]\nlist_lag_ms = 200\n[[api_keys]]\nkey_name = \"k1\"\n"
      "public_key_pem = \"\"\"\n" +
      testing::FreshKey("k1").public_pem + "\"\"\"\n";
  for (const char* type :
       {"withhold_create", "withhold_cancel", "error_after_accept", "user_disconnect",
        "duplicate_user", "reorder_user", "foreign_order", "list_lag", "clear"}) {
    toml += std::string("[[faults.schedule]]\ntype = \"") + type +
            "\"\nat_ms = 0\nms = 100\ncount = 1\n";
  }
  toml += "[[faults.schedule]]\ntype = \"foreign_order\"\nkey = \"k1\"\nat_ms = 0\n";
  const std::string path = WriteConfig("nzeza_sim_faults.toml", toml);
  Child sim({"--config", path});
  ASSERT_TRUE(sim.started());
  const std::string line = sim.ReadLine();
  ASSERT_FALSE(line.empty()) << "no ports line; stderr: " << sim.err();
  const uint16_t admin = static_cast<uint16_t>(JsonInt(line, "admin_port"));
  // Two foreign orders were placed on k1 at start.
  ASSERT_TRUE(testing::PollUntil(
      [&] {
        testing::HttpResult a = testing::AdminGet(admin, "/admin/account?key=k1");
        return JsonInt(a.body, "open_orders") == 2;
      },
      [] {}, 10'000))
      << sim.err();
  testing::HttpResult h = testing::AdminGet(admin, "/admin/health");
  EXPECT_GE(JsonInt(h.body, "faults_applied"), 11) << h.body;
  sim.Signal(SIGTERM);
  EXPECT_EQ(sim.Wait(), 0) << sim.err();
  EXPECT_EQ(sim.err().find("scheduled fault"), std::string::npos) << sim.err();
  ::unlink(path.c_str());
}

TEST(NzezaSim, ExitsZeroWhenTheDurationRunsOut) {
  Child sim({"--duration", "1"});
  ASSERT_TRUE(sim.started());
  EXPECT_FALSE(sim.ReadLine().empty()) << sim.err();
  EXPECT_EQ(sim.Wait(10'000), 0) << sim.err();
}

struct BadConfig {
  const char* name;
  const char* toml;
  const char* key;  // the message must name it
};

class NzezaSimBadConfig : public ::testing::TestWithParam<BadConfig> {};

TEST_P(NzezaSimBadConfig, ExitsNonZeroNamingTheKey) {
  const BadConfig& c = GetParam();
  const std::string path = WriteConfig(c.name, c.toml);
  Child sim({"--config", path, "--duration", "1"});
  ASSERT_TRUE(sim.started());
  const int status = sim.Wait();
  EXPECT_NE(status, 0);
  EXPECT_NE(status, -1) << "did not exit";
  EXPECT_NE(sim.err().find(c.key), std::string::npos) << sim.err();
  ::unlink(path.c_str());
}

INSTANTIATE_TEST_SUITE_P(
    Keys, NzezaSimBadConfig,
    ::testing::Values(
        BadConfig{"bad_seed", "seed = \"abc\"\n", "seed"},
        BadConfig{"bad_float", "[[products]]\nproduct_id = \"BTC-USD\"\nprice_increment = 0.01\n",
                  "products[0].price_increment"},
        BadConfig{"bad_unknown", "[server]\nwsport = 1\n", "server.wsport"},
        BadConfig{"bad_port", "[server]\nws_port = 70000\n", "server.ws_port"},
        BadConfig{"bad_fault", "[[faults.schedule]]\ntype = \"earthquake\"\nat_ms = 10\n",
                  "faults.schedule[0].type"},
        BadConfig{"bad_fault_names", "[[faults.schedule]]\ntype = \"earthquake\"\n",
                  "withhold_create"},
        BadConfig{"bad_fault_key", "[[faults.schedule]]\ntype = \"foreign_order\"\nkey = 5\n",
                  "faults.schedule[0].key"},
        BadConfig{"bad_list_lag", "[faults]\nlist_lag_ms = -1\n", "faults.list_lag_ms"},
        BadConfig{"bad_cert_out", "[server]\ncert_out = \"\"\n", "server.cert_out"},
        BadConfig{"bad_every_n", "[faults]\ngap_every_n = -3\n", "faults.gap_every_n"},
        BadConfig{"bad_keyfile",
                  "[[api_keys]]\nkey_name = \"k\"\npublic_key_file = \"/nonexistent/k.pem\"\n",
                  "api_keys[0].public_key_file"},
        BadConfig{"bad_syntax", "seed = = 1\n", "TOML syntax"}),
    [](const ::testing::TestParamInfo<BadConfig>& i) { return std::string(i.param.name); });

TEST(NzezaSim, BadFlagsAndMissingConfigFail) {
  Child a({"--port", "notaport"});
  EXPECT_EQ(a.Wait(), 2);
  EXPECT_NE(a.err().find("--port"), std::string::npos) << a.err();
  Child b({"--config", "/nonexistent/sim.toml"});
  EXPECT_NE(b.Wait(), 0);
  EXPECT_NE(b.err().find("/nonexistent/sim.toml"), std::string::npos) << b.err();
}

}  // namespace
}  // namespace nzeza::sim
