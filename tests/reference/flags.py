"""Flags the reference scripts share, parsed before anything heavy is imported (common.py imports torch)."""


def add_tokens_and_threads(parser, threads_help):
    """--tokens (comma-separated ids, used exactly as given) and --threads."""
    parser.add_argument("--tokens", required=True, help="comma-separated token ids, e.g. 1,2,3")
    parser.add_argument("--threads", type=int, default=2, help=threads_help)


def parse(parser):
    """The parsed flags, with --tokens as a list of ints (or a usage error)."""
    args = parser.parse_args()
    try:
        args.tokens = [int(token) for token in args.tokens.split(",")]
    except ValueError:
        parser.error(f"--tokens: expected comma-separated integers, got {args.tokens!r}")
    return args
