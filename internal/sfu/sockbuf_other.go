//go:build !linux

package sfu

import "net"

func forceBuffers(*net.UDPConn) {}
