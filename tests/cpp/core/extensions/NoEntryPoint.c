/* A shared library that is not an extension: it lacks optimaV2ExtensionInit. */
int optimaV2SomethingElse(void) { return 42; }
