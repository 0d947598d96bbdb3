// netpol enforces NetworkPolicy on the real node with kube-network-policies' controller: new
// connections' first packets go to an NFQUEUE, where the controller judges them against the
// cluster's policies and accepts or drops them.
//
// Upstream's own main cannot be used as it is: it reads an in-cluster config, and the controller
// hooks the queue in with nftables' `queue` statement, which this project's kernels lack (nft_queue).
// The controller still tries that (and logs that it failed, rolled back whole); the same hook is
// installed here with iptables' NFQUEUE target instead, in the node's namespace, and removed on exit.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"
	"k8s.io/klog/v2"
	"sigs.k8s.io/kube-network-policies/pkg/networkpolicy"
)

// chain is ours, in the mangle table: its FORWARD and INPUT chains come after kube-proxy's DNAT (so
// a Service's packets are judged at the pod they go to) and before the filter table, where
// kube-proxy's KUBE-FORWARD accepts every packet it marked for masquerading (NodePorts among them).
// One jump to it from each hooked chain, so removal is exact.
const chain = "VCP-NETWORK-POLICY"

func main() {
	kubeconfig := flag.String("kubeconfig", "", "kubeconfig of the cluster whose policies are enforced")
	hostname := flag.String("hostname", "", "the node's name (its pods' policies are enforced)")
	podCIDR := flag.String("pod-cidr", "", "the node's pod range: connections from it to the node itself are judged too")
	queue := flag.Int("queue", 100, "NFQUEUE number")
	klog.InitFlags(nil)
	flag.Parse()
	if *kubeconfig == "" || *hostname == "" || *podCIDR == "" {
		fmt.Fprintln(os.Stderr, "netpol: --kubeconfig, --hostname and --pod-cidr are required")
		os.Exit(2)
	}
	if err := run(*kubeconfig, *hostname, *podCIDR, *queue); err != nil {
		fmt.Fprintf(os.Stderr, "netpol: %v\n", err)
		os.Exit(1)
	}
}

func run(kubeconfig, hostname, podCIDR string, queue int) error {
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
		},
	)
	if err != nil {
		return err
	}
	done := make(chan error, 1)
	go func() { done <- controller.Run(ctx) }()
	factory.Start(ctx.Done())

	// Hooks removed first on the way out: leave no rule queueing to a queue nobody reads.
	defer removeHooks()
	if err := installHooks(podCIDR, queue); err != nil {
		return err
	}
	klog.Infof("netpol: judging new connections of node %s on queue %d", hostname, queue)

	select {
	case <-ctx.Done():
		removeHooks()
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
// pods send to the node's own addresses.
func hooks(podCIDR string, queue int) [][]string {
	judge := []string{"-m", "conntrack", "--ctstate", "NEW", "-j", "NFQUEUE", "--queue-num", strconv.Itoa(queue)}
	return [][]string{
		append([]string{"-A", chain}, judge...),
		{"-I", "FORWARD", "1", "-j", chain},
		{"-I", "INPUT", "1", "-s", podCIDR, "-j", chain},
	}
}

func installHooks(podCIDR string, queue int) error {
	removeHooks()
	if err := iptables("-N", chain); err != nil {
		return err
	}
	for _, rule := range hooks(podCIDR, queue) {
		if err := iptables(rule...); err != nil {
			return err
		}
	}
	return nil
}

// removeHooks deletes every jump to our chain, then the chain; a missing one is no error.
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
