// ChildProcess: a program run by a test, with stdout and stderr captured through pipes, every
// wait bounded, and the child killed (SIGKILL) if the test ends first.
//
//   nzeza::testing::ChildProcess c(NZEZA_BIN, {"--duration", "3"});
//   ASSERT_TRUE(c.started());
//   EXPECT_EQ(c.Wait(/*timeout_ms=*/20'000), 0) << c.err();
#ifndef NZEZA_TESTS_COMMON_CHILD_PROCESS_H_
#define NZEZA_TESTS_COMMON_CHILD_PROCESS_H_

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <string>
#include <thread>
#include <vector>

namespace nzeza::testing {

class ChildProcess {
 public:
  ChildProcess(std::string bin, std::vector<std::string> args) {
    int out[2], err[2];
    if (::pipe(out) != 0 || ::pipe(err) != 0) return;
    std::vector<char*> argv;  // built before fork: no allocation in the child
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
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;
  ~ChildProcess() {
    if (pid_ > 0 && status_ == kRunning) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
    }
    if (out_ >= 0) ::close(out_);
    if (err_ >= 0) ::close(err_);
  }

  bool started() const { return pid_ > 0; }
  void Signal(int sig) { ::kill(pid_, sig); }

  // Waits until stdout contains `needle` (true) or `timeout_ms` passed / the child exited (false).
  bool WaitForOutput(const std::string& needle, int timeout_ms) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
    while (std::chrono::steady_clock::now() < deadline) {
      Drain();
      if (out_text_.find(needle) != std::string::npos) return true;
      pollfd p[2] = {{out_, POLLIN, 0}, {err_, POLLIN, 0}};
      (void)::poll(p, 2, 20);
    }
    return false;
  }

  // The exit status, or -1 when the child did not exit normally within `timeout_ms`.
  int Wait(int timeout_ms) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
    while (std::chrono::steady_clock::now() < deadline) {
      Drain();
      int st = 0;
      if (::waitpid(pid_, &st, WNOHANG) == pid_) {
        status_ = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
        Drain();
        return status_;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return -1;
  }

  const std::string& out() const { return out_text_; }
  const std::string& err() const { return err_text_; }

 private:
  static constexpr int kRunning = -2;
  void Drain() {
    char buf[4096];
    ssize_t n;
    while ((n = ::read(err_, buf, sizeof(buf))) > 0) err_text_.append(buf, static_cast<size_t>(n));
    while ((n = ::read(out_, buf, sizeof(buf))) > 0) out_text_.append(buf, static_cast<size_t>(n));
  }

  pid_t pid_ = -1;
  int out_ = -1;
  int err_ = -1;
  int status_ = kRunning;
  std::string out_text_;
  std::string err_text_;
};

}  // namespace nzeza::testing

#endif  // NZEZA_TESTS_COMMON_CHILD_PROCESS_H_
