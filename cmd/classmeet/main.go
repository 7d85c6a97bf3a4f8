// Command classmeet runs a school's meetings: `classmeet serve` is the
// server; `migrate`, `user` and `version` help run it; `loadtest` measures it.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
	_ "time/tzdata" // IANA zones even on machines (and images) without them
)

// version is set at build time: -ldflags "-X main.version=...".
var version = "dev"

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Getenv, os.Stdin, os.Stdout, os.Stderr)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "classmeet:", err)
		if errors.Is(err, errUsage) {
			os.Exit(2)
		}
		os.Exit(1)
	}
}

const usage = `classmeet: meetings for schools

  classmeet serve      run the server (applies pending migrations first)
  classmeet migrate    apply pending database migrations and exit
  classmeet user ...   manage staff accounts (classmeet user help)
  classmeet healthcheck  exit 0 if the local server is ready (for containers)
  classmeet loadtest ... drive a running server with Go WebRTC participants (classmeet loadtest help)
  classmeet version    print the version

Configuration comes from the environment; see docs/operations.md.`

// run is the whole program, with its dependencies passed in.
func run(ctx context.Context, args []string, getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprintln(stderr, usage)
		return errUsage
	}
	switch args[0] {
	case "serve":
		return serve(ctx, getenv, stdout, stderr)
	case "migrate":
		return migrate(ctx, getenv, stderr)
	case "user":
		return userCommand(ctx, args[1:], getenv, stdin, stdout)
	case "loadtest":
		return loadtestCommand(ctx, args[1:], getenv, stdout, stderr)
	case "healthcheck":
		return healthcheck(ctx, getenv, stdout)
	case "version":
		fmt.Fprintln(stdout, "classmeet", version)
		return nil
	case "help", "-h", "--help":
		fmt.Fprintln(stdout, usage)
		return nil
	}
	fmt.Fprintln(stderr, usage)
	return fmt.Errorf("%w: unknown command %q", errUsage, args[0])
}
