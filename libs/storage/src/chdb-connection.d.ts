// chdb publishes `chdb/connection` through package.json "exports", which the repository's
// `moduleResolution: "node"` does not read. Node resolves the import at run time; this
// tells the type checker where the declarations are.
declare module 'chdb/connection' {
  export * from 'chdb/dist/connection/index';
}
