# dtsample/, dtmarks/ and dtloader/ hold ducktape-style test modules that ducttape's runner runs (not pytest)
collect_ignore = ["dtsample", "dtmarks", "dtloader"]
