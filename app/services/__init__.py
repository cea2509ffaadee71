"""Operations the UI and the command line call. Each opens its own unit of work; none imports Qt."""
