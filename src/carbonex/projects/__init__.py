"""Project cycle and MRV, pure rules: methodology calculators, issuance deductions and the
project lifecycle state machine. No I/O: services that persist projects and turn issuance
requests into ledger commands are built on top of these."""
