// Echo server (RFC 862) with Go's net package: one goroutine per connection, the standard
// library only.
//
// usage: go_echo -port=PORT   (0 picks a free port) on 127.0.0.1; prints "listening on
// ADDR:PORT" to stderr. SIGTERM or SIGINT stop it (exit 0).
package main

import (
	"flag"
	"fmt"
	"net"
	"os"
	"os/signal"
	"syscall"
)

// echo copies the connection back to itself with a read/write loop. Not io.Copy: between two
// TCP sockets it splices through a pipe, and a goroutine waiting to read holds that pipe, so
// every idle connection would cost three file descriptors instead of one.
func echo(conn net.Conn) {
	defer conn.Close()
	buf := make([]byte, 32*1024)
	for {
		n, err := conn.Read(buf)
		if n > 0 {
			if _, werr := conn.Write(buf[:n]); werr != nil {
				return
			}
		}
		if err != nil {
			return
		}
	}
}

func main() {
	port := flag.Int("port", -1, "TCP port on 127.0.0.1 (0 picks a free one)")
	flag.Parse()
	if *port < 0 || *port > 65535 {
		fmt.Fprintln(os.Stderr, "usage: go_echo -port=PORT")
		os.Exit(2)
	}
	listener, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", *port))
	if err != nil {
		fmt.Fprintln(os.Stderr, "go_echo:", err)
		os.Exit(1)
	}
	fmt.Fprintln(os.Stderr, "go_echo: listening on", listener.Addr())
	stop := make(chan os.Signal, 1)
	signal.Notify(stop, syscall.SIGTERM, syscall.SIGINT)
	go func() {
		<-stop
		os.Exit(0)
	}()
	for {
		conn, err := listener.Accept()
		if err != nil {
			continue // EMFILE and the like: try again
		}
		go echo(conn)
	}
}
