// Repositories the tests edit. Not part of the package's API.

export const baseDeployment = `apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  labels:
    app: web
spec:
  replicas: 1
  selector:
    matchLabels:
      app: web
  template:
    metadata:
      labels:
        app: web
    spec:
      containers:
        - name: web
          image: ghcr.io/org/web:1.0
          ports:
            - name: http
              containerPort: 8080
          env:
            - name: LOG_LEVEL
              value: info
            - name: DB_PASSWORD
              valueFrom:
                secretKeyRef:
                  name: db
                  key: password
          readinessProbe:
            httpGet:
              path: /ready
              port: http
              scheme: HTTP
            periodSeconds: 5
          resources:
            requests:
              cpu: 100m
              memory: 64Mi
`;

export const baseService = `apiVersion: v1
kind: Service
metadata:
  name: web
spec:
  selector:
    app: web
  ports:
    - port: 80
      targetPort: http
`;

/** The layout of the seeds (02-gitops-usage-flow): base plus development, staging and production overlays. */
export function overlayRepo(): Record<string, string> {
  return {
    "k8s/base/deployment.yaml": baseDeployment,
    "k8s/base/service.yaml": baseService,
    "k8s/base/kustomization.yaml": `apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
resources:
  - deployment.yaml
  - service.yaml
`,
    // A bare overlay: everything comes from base.
    "k8s/overlays/development/kustomization.yaml": `apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
namespace: web-dev
resources:
  - ../../base
`,
    // Pins image and replicas the kustomize way.
    "k8s/overlays/staging/kustomization.yaml": `apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
namespace: web-staging
resources:
  - ../../base
images:
  - name: ghcr.io/org/web # the CI bumps this
    newTag: "1.1"
replicas:
  - name: web
    count: 2
`,
    // The seeds' shape: a deployment.yaml patch next to the kustomization.
    "k8s/overlays/production/kustomization.yaml": `apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
namespace: web-prod
resources:
- ../../base
patchesStrategicMerge:
- deployment.yaml
`,
    "k8s/overlays/production/deployment.yaml": `# Production sizing
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  replicas: 3
  template:
    spec:
      containers:
      - name: web
        env:
        - name: LOG_LEVEL
          value: warn
        resources:
          limits:
            cpu: "1"
            memory: 256Mi
`,
  };
}
