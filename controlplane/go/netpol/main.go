// netpol enforces NetworkPolicy on the real node with kube-network-policies' controller: new
// connections' first packets go to an NFQUEUE, where the controller judges them against the
// cluster's policies and accepts or drops them.
//
// Upstream's own main cannot be used as it is: it reads an in-cluster config, and the controller
// hooks the queue in with nftables' `queue` statement, which this project's kernels lack (nft_queue).
// The controller still tries that, under a table name the kernel refuses (see its Config below); the
// same hook is installed here with iptables' NFQUEUE target instead, in the node's namespace. The
// hooks stay when this exits: with nobody reading the queues, new connections are dropped (closed,
// also while the node stops); they go with the node's namespace. In front of the controller's
// queue, one of our own holds a new pod's first packets until its address is known (hold.go).
package main

import (
	"context"
	"flag"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/tools/clientcmd"
	"k8s.io/klog/v2"
	"sigs.k8s.io/kube-network-policies/pkg/networkpolicy"
)

// chain is ours, in the mangle table: its FORWARD and INPUT chains come after kube-proxy's DNAT (so
// a Service's packets are judged at the pod they go to) and before the filter table, where
// kube-proxy's KUBE-FORWARD accepts every packet it marked for masquerading (NodePorts among them).
// One jump to it from each hooked chain, so removal is exact.
const chain = "VCP-NETWORK-POLICY"

// refusedTableName is longer than nftables' 256 bytes: the kernel refuses every message naming it.
var refusedTableName = "kube-network-policies-unused-" + strings.Repeat("x", 256)

func main() {
	kubeconfig := flag.String("kubeconfig", "", "kubeconfig of the cluster whose policies are enforced")
	hostname := flag.String("hostname", "", "the node's name (its pods' policies are enforced)")
	podCIDR := flag.String("pod-cidr", "", "the node's pod range: connections from it to the node itself are judged too")
	bridgeIP := flag.String("bridge-ip", "", "the pod bridge's own address (in the pod range, no pod's)")
	queue := flag.Int("queue", 100, "NFQUEUE number of the policy controller")
	holdQueue := flag.Int("hold-queue", 101, "NFQUEUE number where packets of pods not yet known wait")
	klog.InitFlags(nil)
	flag.Parse()
	if *kubeconfig == "" || *hostname == "" || *podCIDR == "" || *bridgeIP == "" {
		fmt.Fprintln(os.Stderr, "netpol: --kubeconfig, --hostname, --pod-cidr and --bridge-ip are required")
		os.Exit(2)
	}
	_, podNet, err := net.ParseCIDR(*podCIDR)
	bridge := net.ParseIP(*bridgeIP)
	if err != nil || bridge == nil {
		fmt.Fprintf(os.Stderr, "netpol: --pod-cidr %q or --bridge-ip %q is not an address\n", *podCIDR, *bridgeIP)
		os.Exit(2)
	}
	if err := run(*kubeconfig, *hostname, podNet, bridge, *queue, *holdQueue); err != nil {
		fmt.Fprintf(os.Stderr, "netpol: %v\n", err)
		os.Exit(1)
	}
}

func run(kubeconfig, hostname string, podCIDR *net.IPNet, bridgeIP net.IP, queue, holdQueue int) error {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()

	config, err := clientcmd.BuildConfigFromFlags("", kubeconfig)
	if err != nil {
		return fmt.Errorf("reading %s: %w", kubeconfig, err)
	}
	client, err := kubernetes.NewForConfig(config)
	if err != nil {
		return err
	}
	factory := informers.NewSharedInformerFactory(client, 0)
	controller, err := networkpolicy.NewController(
		client,
		factory.Networking().V1().NetworkPolicies(),
		factory.Core().V1().Namespaces(),
		factory.Core().V1().Pods(),
		nil, nil, nil, nil,
		networkpolicy.Config{
			QueueID:  queue,
			NodeName: hostname,
			// Closed: a packet nobody judges (the engine is down) is dropped, never let through.
			FailOpen: false,
			// Kernels since 6.12 have the conntrack fix this works around; ours queue DNS like the rest.
			NetfilterBug1766Fix: false,
			// Its own nftables table cannot work on these kernels (no nft_queue), and rolling back a
			// failed attempt unregisters the base chain it had hooked in, which makes the kernel drop
			// every packet then waiting in any queue of the namespace (held ones, judged ones). A name
			// longer than the kernel allows fails each attempt at its first check, before any hook.
			NFTableName: refusedTableName,
			// NRI stays on although containerd 1.6 has none (its plugin only logs that it could not
			// connect): with it off, upstream's lookup of an address no pod has yet dereferences the
			// missing plugin. The holding queue (hold.go) covers what NRI would have known early.
		},
	)
	if err != nil {
		return err
	}
	pods := factory.Core().V1().Pods().Informer()
	if err := pods.AddIndexers(cache.Indexers{podIPIndex: podIPs}); err != nil {
		return err
	}
	done := make(chan error, 1)
	go func() { done <- controller.Run(ctx) }()
	factory.Start(ctx.Done())
	for informer, synced := range factory.WaitForCacheSync(ctx.Done()) {
		if !synced {
			return fmt.Errorf("the %v informer did not sync", informer)
		}
	}
	if err := hold(ctx, holdQueue, podCIDR, bridgeIP, pods.GetIndexer()); err != nil {
		return err
	}
	// The hooks go in once both queues are read: a queue nobody reads drops what it gets.
	if err := waitForQueue(ctx, queue, done); err != nil {
		return err
	}

	if err := installHooks(podCIDR.String(), queue, holdQueue); err != nil {
		return err
	}
	klog.Infof("netpol: judging new connections of node %s on queue %d", hostname, queue)

	select {
	case <-ctx.Done():
		select {
		case <-done:
		case <-time.After(5 * time.Second):
		}
		return nil
	case err := <-done:
		if err == nil {
			err = fmt.Errorf("the policy controller stopped")
		}
		return err
	}
}

// hooks are where the first packet of every connection is judged: what the node forwards (pod to
// pod, pod to Service after kube-proxy's DNAT, pod to the machine, the machine to pods) and what
// pods send to the node's own addresses. One to or from the pod range passes the holding queue
// first, and comes back marked as held.
func hooks(podCIDR string, queue, holdQueue int) [][]string {
	fresh := []string{"-m", "conntrack", "--ctstate", "NEW"}
	unheld := []string{"-m", "mark", "!", "--mark", fmt.Sprintf("0x%x/0x%x", heldMark, heldMark)}
	toQueue := func(n int) []string { return []string{"-j", "NFQUEUE", "--queue-num", strconv.Itoa(n)} }
	rule := func(parts ...[]string) []string {
		out := []string{"-A", chain}
		for _, part := range parts {
			out = append(out, part...)
		}
		return out
	}
	return [][]string{
		rule([]string{"-s", podCIDR}, fresh, unheld, toQueue(holdQueue)),
		rule([]string{"-d", podCIDR}, fresh, unheld, toQueue(holdQueue)),
		rule(fresh, toQueue(queue)),
		{"-I", "FORWARD", "1", "-j", chain},
		{"-I", "INPUT", "1", "-s", podCIDR, "-j", chain},
	}
}

func installHooks(podCIDR string, queue, holdQueue int) error {
	removeHooks()
	if err := iptables("-N", chain); err != nil {
		return err
	}
	for _, rule := range hooks(podCIDR, queue, holdQueue) {
		if err := iptables(rule...); err != nil {
			return err
		}
	}
	return nil
}

// removeHooks deletes every jump to our chain, then the chain (a previous run's, before installing
// them again); a missing one is no error.
func removeHooks() {
	for _, parent := range []string{"FORWARD", "INPUT"} {
		out, _ := exec.Command("iptables", "-w", "-t", "mangle", "-S", parent).Output()
		for _, line := range strings.Split(string(out), "\n") {
			fields := strings.Fields(line)
			if len(fields) > 2 && fields[0] == "-A" && strings.HasSuffix(line, "-j "+chain) {
				_ = iptables(append([]string{"-D"}, fields[1:]...)...)
			}
		}
	}
	_ = iptables("-F", chain)
	_ = iptables("-X", chain)
}

func iptables(args ...string) error {
	out, err := exec.Command("iptables", append([]string{"-w", "-t", "mangle"}, args...)...).CombinedOutput()
	if err != nil {
		return fmt.Errorf("iptables -t mangle %s: %v: %s", strings.Join(args, " "), err, strings.TrimSpace(string(out)))
	}
	return nil
}

// waitForQueue waits until a process reads NFQUEUE queue in this network namespace (the controller
// binds it once its informers have synced).
func waitForQueue(ctx context.Context, queue int, done <-chan error) error {
	deadline := time.Now().Add(60 * time.Second)
	for {
		table, err := os.ReadFile("/proc/net/netfilter/nfnetlink_queue")
		if err == nil {
			for _, line := range strings.Split(string(table), "\n") {
				if fields := strings.Fields(line); len(fields) > 0 && fields[0] == strconv.Itoa(queue) {
					return nil
				}
			}
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("the policy controller did not read NFQUEUE %d within 60 s", queue)
		}
		select {
		case err := <-done:
			return fmt.Errorf("the policy controller stopped before reading NFQUEUE %d: %v", queue, err)
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
}
