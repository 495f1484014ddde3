"""Reading: input files into blocks of lines (inputs), lines into records (records), records
into typed events (events), all by the patterns compiled from the Lark grammars (grammar)."""
