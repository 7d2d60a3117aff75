// Command kstatus prints the kstatus verdict (Current, InProgress, Failed, ...)
// that Flux and kpt compute for each Kubernetes object read as JSON from
// standard input (one object or a List). Tests use it to show that
// CloudRecording status is kstatus-compatible, with the real library.
package main

import (
	"fmt"
	"io"
	kjson "k8s.io/apimachinery/pkg/util/json"
	"os"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/cli-utils/pkg/kstatus/status"
)

func main() {
	data, err := io.ReadAll(os.Stdin)
	if err != nil {
		fail(err)
	}
	var obj map[string]interface{}
	if err := kjson.Unmarshal(data, &obj); err != nil {
		fail(err)
	}
	items := []interface{}{obj}
	if list, ok := obj["items"].([]interface{}); ok {
		items = list
	}
	for _, item := range items {
		m, ok := item.(map[string]interface{})
		if !ok {
			fail(fmt.Errorf("not an object: %v", item))
		}
		result, err := status.Compute(&unstructured.Unstructured{Object: m})
		if err != nil {
			fail(err)
		}
		fmt.Printf("%s\t%s\n", result.Status, result.Message)
	}
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "kstatus:", err)
	os.Exit(2)
}
