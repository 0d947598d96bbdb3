package main

import (
	"net"
	"reflect"
	"testing"
)

func TestUnplaced(t *testing.T) {
	_, pods, _ := net.ParseCIDR("10.88.1.0/24")
	bridge := net.ParseIP("10.88.1.1")
	known := func(ip string) bool { return ip == "10.88.1.5" }
	ipv4 := func(src, dst string) []byte {
		packet := make([]byte, 20)
		packet[0] = 0x45
		copy(packet[12:16], net.ParseIP(src).To4())
		copy(packet[16:20], net.ParseIP(dst).To4())
		return packet
	}
	ipv6 := make([]byte, 40)
	ipv6[0] = 0x60
	copy(ipv6[8:24], net.ParseIP("fd00::1"))
	copy(ipv6[24:40], net.ParseIP("fd00::2"))

	for _, tc := range []struct {
		name    string
		packet  []byte
		missing []string
		fails   bool
	}{
		{"a known pod to the machine", ipv4("10.88.1.5", "10.87.1.1"), nil, false},
		{"a new pod to the metadata address", ipv4("10.88.1.9", "169.254.169.254"), []string{"10.88.1.9"}, false},
		{"the machine to a new pod", ipv4("10.87.1.1", "10.88.1.9"), []string{"10.88.1.9"}, false},
		{"two new pods", ipv4("10.88.1.8", "10.88.1.9"), []string{"10.88.1.8", "10.88.1.9"}, false},
		{"a new pod to the bridge", ipv4("10.88.1.9", "10.88.1.1"), []string{"10.88.1.9"}, false},
		{"a known pod to the bridge", ipv4("10.88.1.5", "10.88.1.1"), nil, false},
		{"outside the pod range", ipv6, nil, false},
		{"cut short", ipv4("10.88.1.5", "10.87.1.1")[:12], nil, true},
		{"not IP", []byte{0x20, 0, 0}, nil, true},
		{"empty", nil, nil, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			missing, err := unplaced(tc.packet, pods, bridge, known)
			if (err != nil) != tc.fails {
				t.Fatalf("error %v, want failure %v", err, tc.fails)
			}
			if !reflect.DeepEqual(missing, tc.missing) {
				t.Fatalf("missing %v, want %v", missing, tc.missing)
			}
		})
	}
}
