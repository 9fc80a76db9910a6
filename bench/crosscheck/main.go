// An independent ping-pong client for bench/crosscheck.sh: nothing shared with reactor-bench but
// the scenario. One goroutine per connection sends a message, reads the whole echo back and
// checks it; messages completed between the end of the warm-up and the end of the run count.
//
// usage: pingpong_go -port=PORT [-connections=50] [-message_bytes=64] [-warmup_s=1]
// [-duration_s=5]; prints one JSON line {"messages", "msgs_per_s", "errors", "client_cpu_s"};
// exits 1 on errors.
package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

func pingPong(port int, size int, start, end time.Time, messages, errors *int64, wg *sync.WaitGroup) {
	defer wg.Done()
	conn, err := net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", port), 5*time.Second)
	if err != nil {
		atomic.AddInt64(errors, 1)
		return
	}
	defer conn.Close()
	message := make([]byte, size)
	for i := range message {
		message[i] = byte('a' + i%26)
	}
	reply := make([]byte, size)
	for time.Now().Before(end) {
		conn.SetDeadline(time.Now().Add(5 * time.Second))
		if _, err := conn.Write(message); err != nil {
			atomic.AddInt64(errors, 1)
			return
		}
		if _, err := io.ReadFull(conn, reply); err != nil || !bytes.Equal(reply, message) {
			atomic.AddInt64(errors, 1)
			return
		}
		if now := time.Now(); now.After(start) && now.Before(end) {
			atomic.AddInt64(messages, 1)
		}
	}
}

func main() {
	port := flag.Int("port", 0, "server port on 127.0.0.1")
	connections := flag.Int("connections", 50, "connections, one goroutine each")
	size := flag.Int("message_bytes", 64, "bytes per message")
	warmup := flag.Float64("warmup_s", 1, "seconds before the measured window")
	duration := flag.Float64("duration_s", 5, "measured seconds")
	flag.Parse()
	if *port <= 0 || *connections <= 0 || *size <= 0 || *duration <= 0 {
		fmt.Fprintln(os.Stderr, "usage: pingpong_go -port=PORT [-connections=N] [-message_bytes=B]")
		os.Exit(2)
	}
	start := time.Now().Add(time.Duration(*warmup * float64(time.Second)))
	end := start.Add(time.Duration(*duration * float64(time.Second)))
	var messages, errors int64
	var wg sync.WaitGroup
	for i := 0; i < *connections; i++ {
		wg.Add(1)
		go pingPong(*port, *size, start, end, &messages, &errors, &wg)
	}
	wg.Wait()
	var usage syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &usage)
	cpu := time.Duration(usage.Utime.Nano() + usage.Stime.Nano()).Seconds()
	json.NewEncoder(os.Stdout).Encode(map[string]any{
		"messages": messages, "msgs_per_s": float64(messages) / *duration, "errors": errors,
		"client_cpu_s": cpu,
	})
	if errors > 0 {
		os.Exit(1)
	}
}
