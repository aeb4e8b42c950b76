# entra-match-operator. The two commands a person needs: `make demo` and `make test`.

SHELL := /usr/bin/env bash -o pipefail
.SHELLFLAGS := -ec

CONTROLLER_TOOLS_VERSION ?= v0.23.0
GOLANGCI_LINT_VERSION    ?= v2.15.0
KREW_VERSION             ?= v0.4.3
BIN       := $(CURDIR)/bin
TOOLS     := $(BIN)/tools
CONTROLLER_GEN := $(TOOLS)/controller-gen-$(CONTROLLER_TOOLS_VERSION)
GOLANGCI_LINT  := $(TOOLS)/golangci-lint-$(GOLANGCI_LINT_VERSION)
KREW           := $(TOOLS)/krew-$(KREW_VERSION)
GO_TEST_FLAGS  ?= -timeout 30m
IMG ?= ghcr.io/entramatch/entra-match-operator:dev
CHART := charts/entra-match-operator

.PHONY: all
all: build

##@ General

.PHONY: help
help: ## Show the targets.
	@awk 'BEGIN {FS = ":.*##"} /^[a-zA-Z_-]+:.*?##/ { printf "  %-16s %s\n", $$1, $$2 } /^##@/ { printf "\n%s\n", substr($$0, 5) }' $(MAKEFILE_LIST)

##@ Development

.PHONY: generate
generate: $(CONTROLLER_GEN) ## Generate deepcopy code.
	$(CONTROLLER_GEN) object:headerFile=hack/boilerplate.go.txt paths=./api/...

.PHONY: manifests
manifests: $(CONTROLLER_GEN) ## Generate CRDs and RBAC.
	$(CONTROLLER_GEN) rbac:roleName=manager-role crd paths=./api/... paths=./controllers/... \
		output:crd:artifacts:config=config/crd/bases output:rbac:artifacts:config=config/rbac
	@# The Helm chart takes its CRDs, RBAC rules, alerts and dashboard from
	@# config/: one source, copied here and diffed by make verify.
	rm -f $(CHART)/crds/*.yaml && cp config/crd/bases/*.yaml $(CHART)/crds/
	cp config/rbac/role.yaml $(CHART)/files/manager-role.yaml
	cp config/prometheus/rules.yaml $(CHART)/files/prometheus-rules.yaml
	cp config/grafana/entra-match-operator.json $(CHART)/files/dashboard.json

.PHONY: docs
docs: ## Regenerate docs/reference.md from the CRDs.
	go run ./hack/crdref

.PHONY: fmt
fmt: ## gofmt the tree.
	gofmt -w $$(git ls-files '*.go')

.PHONY: lint
lint: $(GOLANGCI_LINT) ## Run golangci-lint.
	$(GOLANGCI_LINT) run ./...

.PHONY: verify
verify: generate manifests docs ## Fail when generated files are stale, code is unformatted or vet/lint complain.
	@git diff --exit-code -- api config charts docs/reference.md || { echo "generated files are stale: run 'make generate manifests docs' and commit"; exit 1; }
	@test -z "$$(git status --porcelain --untracked-files=all -- api config charts)" || { git status --porcelain -- api config charts; echo "untracked generated files: run 'make generate manifests' and commit"; exit 1; }
	@out=$$(gofmt -l $$(git ls-files '*.go')); test -z "$$out" || { echo "gofmt needed: $$out"; exit 1; }
	@hack/tracked-binaries.sh || { echo "remove compiled binaries from git (build into bin/)"; exit 1; }
	@hack/pinned-images.sh || { echo "pin every base image by digest (see the Dockerfile's header)"; exit 1; }
	go vet ./...
	go vet -tags crashpoints ./internal/crashpoint/
	$(MAKE) lint

.PHONY: envtest
envtest: ## Build kube-apiserver and etcd from source into bin/k8s (cached per version).
	@hack/envtest.sh >/dev/null

.PHONY: test
test: verify envtest $(KREW) ## Unit, envtest integration and end-to-end tests (Samba AD DC + emulator).
	KUBEBUILDER_ASSETS="$$(hack/envtest.sh)" KREW="$(KREW)" go test $(GO_TEST_FLAGS) ./...

.PHONY: unit
unit: ## Fast loop: unit and in-process tests, no lint, no Samba, no kube-apiserver (their test files carry //go:build !unit).
	go test -tags unit $(GO_TEST_FLAGS) ./api/... ./controllers/... ./internal/... ./cmd/...

.PHONY: bench
bench: envtest ## Benchmarks (docs/performance.md): convergence, latency against a script, linearity, write quota, many tenants, the emulator under load, the sync plan over 10,000 objects.
	KUBEBUILDER_ASSETS="$$(hack/envtest.sh)" go test -run '^$$' -bench . -benchtime=1x -timeout 120m ./test/bench/
	go test -run '^$$' -bench . -benchmem -timeout 30m ./internal/...
	SYNCPLAN_OBJECTS=10000 go test -count=1 -v -run TestPredictionAgreesWithTheEmulatedSync ./internal/syncplan/
	go test -run '^$$' -bench 'SyncPlan10k|CachedUserMatch' -benchtime=1x -timeout 30m ./controllers/

.PHONY: demo
demo: envtest ## Run the operator on an embedded default (local control plane, emulated tenant, embedded directory).
	KUBEBUILDER_ASSETS="$$(hack/envtest.sh)" go run ./cmd/demo $(DEMO_FLAGS)

##@ Build

.PHONY: build
build: ## Build the manager, the emulator and the CLI into bin/.
	go build -o $(BIN)/manager ./cmd/manager
	go build -o $(BIN)/entra-emulator ./cmd/entra-emulator
	go build -o $(BIN)/entramatch ./cmd/entramatch
	ln -sf entramatch $(BIN)/kubectl-entramatch

.PHONY: plugin
plugin: ## Build kubectl-entramatch archives for every platform and their krew manifest into dist/ (VERSION=v0.1.0).
	hack/plugin-dist.sh $(or $(VERSION),v0.1.0) dist

.PHONY: docker-build
docker-build: ## Build the container image (needs a Docker engine).
	docker build -t $(IMG) .

.PHONY: install
install: manifests ## Install the CRDs into the cluster of the current kubeconfig.
	kubectl apply -k config/crd

.PHONY: deploy
deploy: manifests ## Deploy the manager into the cluster of the current kubeconfig.
	kubectl apply -k config/default

##@ Tools (cached under bin/tools, keyed by version)

$(CONTROLLER_GEN):
	@mkdir -p $(TOOLS)
	GOBIN=$(TOOLS)/tmp-cg go install sigs.k8s.io/controller-tools/cmd/controller-gen@$(CONTROLLER_TOOLS_VERSION)
	mv $(TOOLS)/tmp-cg/controller-gen $@ && rmdir $(TOOLS)/tmp-cg

$(KREW):
	@mkdir -p $(TOOLS)
	GOBIN=$(TOOLS)/tmp-krew go install sigs.k8s.io/krew/cmd/krew@$(KREW_VERSION)
	mv $(TOOLS)/tmp-krew/krew $@ && rmdir $(TOOLS)/tmp-krew

$(GOLANGCI_LINT):
	@mkdir -p $(TOOLS)
	@echo "building golangci-lint $(GOLANGCI_LINT_VERSION) (one time)"
	GOBIN=$(TOOLS)/tmp-gl go install github.com/golangci/golangci-lint/v2/cmd/golangci-lint@$(GOLANGCI_LINT_VERSION)
	mv $(TOOLS)/tmp-gl/golangci-lint $@ && rmdir $(TOOLS)/tmp-gl
