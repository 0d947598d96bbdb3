// Command vcontrolplane runs a virtual cluster's control plane in one process: an embedded etcd
// (optional), kube-apiserver and kube-controller-manager, each from its upstream package and with
// its own upstream flags. One Go runtime and one mapped copy of the Kubernetes code they share,
// instead of three: much less resident memory for a cluster that idles most of its life.
//
//	vcontrolplane [etcd <etcd flags> --] kube-apiserver <flags> -- kube-controller-manager <flags>
//
// The parts start in that order, each once the one before serves. SIGTERM or SIGINT stops the
// API server gracefully, then etcd, and exits 0. If any part ends on its own the process exits 1
// at once: never a half-alive cluster.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"
	_ "time/tzdata" // CronJob time zones, as in the upstream mains.

	"go.etcd.io/etcd/pkg/v3/flags"
	"go.etcd.io/etcd/server/v3/embed"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"
	"k8s.io/component-base/logs"
	logsapi "k8s.io/component-base/logs/api/v1"
	_ "k8s.io/component-base/logs/json/register"          // as in the upstream mains
	_ "k8s.io/component-base/metrics/prometheus/clientgo" // client-go metrics, as upstream
	_ "k8s.io/component-base/metrics/prometheus/version"  // version metric, as upstream
	apiserver "k8s.io/kubernetes/cmd/kube-apiserver/app"
	controllermanager "k8s.io/kubernetes/cmd/kube-controller-manager/app"
)

const usage = "usage: vcontrolplane [etcd <etcd flags> --] kube-apiserver <flags> -- kube-controller-manager <flags>"

// How long the API server may take to shut down gracefully before etcd is closed and the process
// exits anyway: under the launcher's 10 s before SIGKILL, so etcd always closes cleanly.
const shutdownTimeout = 7 * time.Second

func main() {
	os.Exit(run(os.Args[1:]))
}

func run(args []string) int {
	sections, err := splitSections(args)
	if err != nil {
		fmt.Fprintf(os.Stderr, "vcontrolplane: %v\n%s\n", err, usage)
		return 2
	}
	logs.InitLogs()
	defer logs.FlushLogs()
	// Both commands apply the (same, default) logging configuration; upstream refuses a second apply.
	logsapi.ReapplyHandling = logsapi.ReapplyHandlingIgnoreUnchanged

	// Built first: it installs the API server's SIGTERM/SIGINT handler (its graceful shutdown), which
	// may exist only once per process. The controller manager installs none unless an alpha gate is on.
	apiCmd := apiserver.NewAPIServerCommand()
	apiCmd.SetArgs(sections["kube-apiserver"])
	cmCmd := controllermanager.NewControllerManagerCommand()
	cmCmd.SetArgs(sections["kube-controller-manager"])

	// Our own subscription as well: a signal before the API server runs must still end the process.
	signals := make(chan os.Signal, 2)
	signal.Notify(signals, syscall.SIGTERM, syscall.SIGINT)

	type exit struct {
		part string
		err  error
	}
	exited := make(chan exit, 3)

	var etcd *embed.Etcd
	if etcdArgs, ok := sections["etcd"]; ok {
		cfg, err := etcdConfig(etcdArgs)
		if err != nil {
			fmt.Fprintf(os.Stderr, "vcontrolplane: etcd flags: %v\n", err)
			return 2
		}
		etcd, err = embed.StartEtcd(cfg)
		if err != nil {
			fmt.Fprintf(os.Stderr, "vcontrolplane: etcd did not start: %v\n", err)
			return 1
		}
		select {
		case <-etcd.Server.ReadyNotify():
		case err := <-etcd.Err():
			fmt.Fprintf(os.Stderr, "vcontrolplane: etcd failed: %v\n", err)
			etcd.Close()
			return 1
		case <-signals:
			etcd.Close()
			return 0
		}
		go func() {
			select {
			case err := <-etcd.Err():
				exited <- exit{"etcd", err}
			case <-etcd.Server.StopNotify():
				exited <- exit{"etcd", errors.New("etcd server stopped")}
			}
		}()
	}
	// Only the server itself (raft, the backend's last commit): the process exits next. etcd.Close()
	// would first wait up to 7 s for client streams to end, and the API server's watches never do.
	closeEtcd := func() {
		if etcd != nil {
			etcd.Server.Stop()
		}
	}

	go func() { exited <- exit{"kube-apiserver", apiCmd.Execute()} }()

	// The controller manager gives the API server 10 s to be healthy, then fails: on a loaded machine
	// a cold API server takes longer. Start it once /readyz answers, as separate processes did.
	apiReady := make(chan error, 1)
	go func() { apiReady <- waitForAPIServer(sections["kube-controller-manager"]) }()

	started := false
	for {
		select {
		case err := <-apiReady:
			if err != nil {
				fmt.Fprintf(os.Stderr, "vcontrolplane: %v\n", err)
				closeEtcd()
				return 1
			}
			if !started {
				started = true
				go func() { exited <- exit{"kube-controller-manager", cmCmd.Execute()} }()
			}
		case sig := <-signals:
			// The API server saw the signal too and shuts down gracefully; wait for it, then etcd.
			fmt.Fprintf(os.Stderr, "vcontrolplane: %v: stopping\n", sig)
			select {
			case e := <-exited:
				if e.part != "kube-apiserver" {
					fmt.Fprintf(os.Stderr, "vcontrolplane: %s exited while stopping: %v\n", e.part, e.err)
				}
			case <-time.After(shutdownTimeout):
				fmt.Fprintln(os.Stderr, "vcontrolplane: kube-apiserver did not stop in time")
			case <-signals:
				// A second signal: exit at once (the API server's own handler does the same).
			}
			closeEtcd()
			return 0
		case e := <-exited:
			fmt.Fprintf(os.Stderr, "vcontrolplane: %s exited: %v; stopping the control plane\n", e.part, e.err)
			closeEtcd()
			return 1
		}
	}
}

// splitSections reads `[etcd ARGS --] kube-apiserver ARGS -- kube-controller-manager ARGS`.
func splitSections(args []string) (map[string][]string, error) {
	sections := map[string][]string{}
	var current string
	expectName := true
	for _, arg := range args {
		if expectName {
			switch arg {
			case "etcd", "kube-apiserver", "kube-controller-manager":
				if _, seen := sections[arg]; seen {
					return nil, fmt.Errorf("%s given twice", arg)
				}
				current = arg
				sections[arg] = []string{}
				expectName = false
				continue
			default:
				return nil, fmt.Errorf("expected a part name, got %q", arg)
			}
		}
		if arg == "--" {
			expectName = true
			continue
		}
		sections[current] = append(sections[current], arg)
	}
	for _, required := range []string{"kube-apiserver", "kube-controller-manager"} {
		if _, ok := sections[required]; !ok {
			return nil, fmt.Errorf("no %s section", required)
		}
	}
	return sections, nil
}

// etcdConfig parses etcd's own flags into an embed.Config the way etcd's main does, for the flags
// that matter to a single local member.
func etcdConfig(args []string) (*embed.Config, error) {
	cfg := embed.NewConfig()
	fs := flag.NewFlagSet("etcd", flag.ContinueOnError)
	cfg.AddFlags(fs)
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if fs.NArg() != 0 {
		return nil, fmt.Errorf("%q is not a flag", fs.Arg(0))
	}
	cfg.ListenPeerUrls = flags.UniqueURLsFromFlag(fs, "listen-peer-urls")
	cfg.AdvertisePeerUrls = flags.UniqueURLsFromFlag(fs, "initial-advertise-peer-urls")
	cfg.ListenClientUrls = flags.UniqueURLsFromFlag(fs, "listen-client-urls")
	cfg.AdvertiseClientUrls = flags.UniqueURLsFromFlag(fs, "advertise-client-urls")
	cfg.ListenMetricsUrls = flags.UniqueURLsFromFlag(fs, "listen-metrics-urls")
	cfg.LogOutputs = flags.UniqueStringsFromFlag(fs, "log-outputs")
	fs.Visit(func(f *flag.Flag) { cfg.FlagsExplicitlySet[f.Name] = true })
	// etcd's main sets this default after parsing; embed.NewConfig leaves it 0, and then every request
	// counts as slow and is logged at warn level (a log line per request, for the cluster's life).
	if cfg.WarningUnaryRequestDuration == 0 {
		cfg.WarningUnaryRequestDuration = embed.DefaultWarningUnaryRequestDuration
	}
	return cfg, cfg.Validate()
}

// waitForAPIServer polls /readyz with the controller manager's own --kubeconfig until it answers.
func waitForAPIServer(cmArgs []string) error {
	var kubeconfig string
	for _, arg := range cmArgs {
		if value, ok := strings.CutPrefix(arg, "--kubeconfig="); ok {
			kubeconfig = value
		}
	}
	if kubeconfig == "" {
		return errors.New("kube-controller-manager needs --kubeconfig=FILE (used to wait for the API server)")
	}
	config, err := clientcmd.BuildConfigFromFlags("", kubeconfig)
	if err != nil {
		return fmt.Errorf("reading %s: %w", kubeconfig, err)
	}
	config.Timeout = 2 * time.Second
	client, err := kubernetes.NewForConfig(config)
	if err != nil {
		return err
	}
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		_, err := client.Discovery().RESTClient().Get().AbsPath("/readyz").DoRaw(ctx)
		cancel()
		if err == nil {
			return nil
		}
		time.Sleep(100 * time.Millisecond)
	}
}
