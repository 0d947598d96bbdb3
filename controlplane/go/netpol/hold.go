package main

import (
	"context"
	"fmt"
	"net"
	"time"

	"github.com/florianl/go-nfqueue"
	"github.com/mdlayher/netlink"
	v1 "k8s.io/api/core/v1"
	"k8s.io/client-go/tools/cache"
	"k8s.io/klog/v2"
)

// A pod's first packets leave before the API server has its address (kubelet publishes it just
// after the containers start; containerd 1.6 has no NRI to tell it sooner); the policy controller
// would judge them as coming from or going to no pod at all, so a new pod's egress policies would
// not apply yet. The holding queue sits in front of the controller's: a new connection to or from a
// pod address nobody knows waits there until the pod informer has it, then goes back through the
// chain (NF_REPEAT) marked as held, to be judged. Never let through unjudged: unknown after
// holdTimeout, it is dropped.

// heldMark is the packet mark bit of a held packet (kube-proxy uses 0x4000 and 0x8000, portmap 0x2000).
const heldMark = 0x40000

const holdTimeout = 5 * time.Second

const podIPIndex = "vcp-pod-ip"

// podIPs indexes pods by address as the controller does (pods on the host network have none of
// their own).
func podIPs(obj interface{}) ([]string, error) {
	pod, ok := obj.(*v1.Pod)
	if !ok || pod.Spec.HostNetwork {
		return nil, nil
	}
	ips := make([]string, 0, len(pod.Status.PodIPs))
	for _, ip := range pod.Status.PodIPs {
		ips = append(ips, ip.IP)
	}
	return ips, nil
}

// addresses returns a packet's source and destination, from its IPv4 or IPv6 header.
func addresses(packet []byte) (net.IP, net.IP, error) {
	if len(packet) < 1 {
		return nil, nil, fmt.Errorf("empty packet")
	}
	switch packet[0] >> 4 {
	case 4:
		if len(packet) < 20 {
			return nil, nil, fmt.Errorf("IPv4 header cut short (%d bytes)", len(packet))
		}
		return net.IP(packet[12:16]), net.IP(packet[16:20]), nil
	case 6:
		if len(packet) < 40 {
			return nil, nil, fmt.Errorf("IPv6 header cut short (%d bytes)", len(packet))
		}
		return net.IP(packet[8:24]), net.IP(packet[24:40]), nil
	}
	return nil, nil, fmt.Errorf("not an IP packet (version %d)", packet[0]>>4)
}

// unplaced returns the pod addresses of a packet that no pod has yet: those of the pod range, but
// the bridge's own.
func unplaced(packet []byte, podCIDR *net.IPNet, bridgeIP net.IP, known func(string) bool) ([]string, error) {
	src, dst, err := addresses(packet)
	if err != nil {
		return nil, err
	}
	var missing []string
	for _, ip := range []net.IP{src, dst} {
		if podCIDR.Contains(ip) && !ip.Equal(bridgeIP) && !known(ip.String()) {
			missing = append(missing, ip.String())
		}
	}
	return missing, nil
}

// hold reads the holding queue until ctx ends.
func hold(ctx context.Context, queue int, podCIDR *net.IPNet, bridgeIP net.IP, pods cache.Indexer) error {
	known := func(ip string) bool {
		objs, err := pods.ByIndex(podIPIndex, ip)
		return err == nil && len(objs) > 0
	}
	nf, err := nfqueue.Open(&nfqueue.Config{
		NfQueue:      uint16(queue),
		MaxPacketLen: 64, // the IP header is all it reads
		MaxQueueLen:  1024,
		Copymode:     nfqueue.NfQnlCopyPacket,
		WriteTimeout: 100 * time.Millisecond,
	})
	if err != nil {
		return fmt.Errorf("opening NFQUEUE %d: %w", queue, err)
	}
	go func() {
		<-ctx.Done()
		nf.Close()
	}()
	verdict := func(id uint32, mark uint32, missing []string) {
		waited := append([]string(nil), missing...)
		start := time.Now()
		deadline := start.Add(holdTimeout)
		for len(missing) > 0 && time.Now().Before(deadline) && ctx.Err() == nil {
			time.Sleep(10 * time.Millisecond)
			still := missing[:0]
			for _, ip := range missing {
				if !known(ip) {
					still = append(still, ip)
				}
			}
			missing = still
		}
		if len(missing) > 0 {
			klog.Infof("netpol: dropped a new connection of %v: no pod has the address after %s", missing, holdTimeout)
			_ = nf.SetVerdict(id, nfqueue.NfDrop)
			return
		}
		klog.Infof("netpol: held a new connection of %v for %s, until its pod was known", waited, time.Since(start).Round(time.Millisecond))
		_ = nf.SetVerdictWithMark(id, nfqueue.NfRepeat, int(mark|heldMark))
	}
	return nf.RegisterWithErrorFunc(ctx, func(a nfqueue.Attribute) int {
		if a.PacketID == nil {
			return 0
		}
		id := *a.PacketID
		var mark uint32
		if a.Mark != nil {
			mark = *a.Mark // kube-proxy's masquerade bit among it: kept
		}
		var payload []byte
		if a.Payload != nil {
			payload = *a.Payload
		}
		missing, err := unplaced(payload, podCIDR, bridgeIP, known)
		if err != nil {
			klog.Infof("netpol: dropped a packet it cannot read: %v", err)
			_ = nf.SetVerdict(id, nfqueue.NfDrop)
			return 0
		}
		if len(missing) == 0 {
			_ = nf.SetVerdictWithMark(id, nfqueue.NfRepeat, int(mark|heldMark))
			return 0
		}
		go verdict(id, mark, missing)
		return 0
	}, func(err error) int {
		if opError, ok := err.(*netlink.OpError); ok && (opError.Timeout() || opError.Temporary()) {
			return 0
		}
		if ctx.Err() == nil {
			klog.Infof("netpol: reading NFQUEUE %d: %v", queue, err)
		}
		return 0
	})
}
