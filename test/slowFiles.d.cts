/** Types of test/slowFiles.cjs. */
export declare const SLOW_TEST_FILES: string[];
