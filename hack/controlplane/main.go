// Command kube-testbin is a multi-call binary for a local, loopback-only
// Kubernetes control plane used by tests and the demo. It dispatches on the
// name it is invoked by (a symlink) or on its first argument:
//
//	kube-apiserver, kube-controller-manager, etcd, kubectl
//
// Building them into one binary links the shared Kubernetes code once.
package main

import (
	"fmt"
	"os"
	"path/filepath"

	"go.etcd.io/etcd/server/v3/etcdmain"
	"k8s.io/component-base/cli"
	kubectlcmd "k8s.io/kubectl/pkg/cmd"
	kubectlutil "k8s.io/kubectl/pkg/cmd/util"
	apiserver "k8s.io/kubernetes/cmd/kube-apiserver/app"
	controllermanager "k8s.io/kubernetes/cmd/kube-controller-manager/app"
)

func main() {
	name := filepath.Base(os.Args[0])
	args := os.Args
	if name == "kube-testbin" {
		if len(os.Args) < 2 {
			fmt.Fprintln(os.Stderr, "usage: kube-testbin kube-apiserver|kube-controller-manager|etcd|kubectl [flags]")
			os.Exit(2)
		}
		name = os.Args[1]
		args = os.Args[1:]
	}
	switch name {
	case "kube-apiserver":
		os.Args = args
		os.Exit(cli.Run(apiserver.NewAPIServerCommand()))
	case "kube-controller-manager":
		os.Args = args
		os.Exit(cli.Run(controllermanager.NewControllerManagerCommand()))
	case "etcd":
		etcdmain.Main(args)
	case "kubectl":
		os.Args = args
		if err := cli.RunNoErrOutput(kubectlcmd.NewDefaultKubectlCommand()); err != nil {
			kubectlutil.CheckErr(err)
		}
	default:
		fmt.Fprintf(os.Stderr, "kube-testbin: unknown command %q\n", name)
		os.Exit(2)
	}
}
