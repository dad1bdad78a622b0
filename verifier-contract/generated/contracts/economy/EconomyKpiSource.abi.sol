// EconomyKpiSource's compiled ABI as a Solidity interface, written by `cargo run -p zkpolicy-contracts --example render_contracts`;
// the Rust bindings are generated from it. Do not edit.
interface EconomyKpiSource {
    error AlreadyTaken(uint64 epoch);
    error BadHolders(string reason);
    error BadRange(uint256 index);
    error BadSnapshotWindow();
    error NoLiquidity();
    error NotBetter(uint256 holdings, uint256 incumbent);
    error NotProposed();
    error NotStarted();
    error ProposedInThisBlock();
    error SafeCastOverflowedUintDowncast(uint8 bits, uint256 value);
    error SnapshotWindowClosed(uint64 epoch, uint64 closedAt);
    error WrongIncumbent();

    event HoldersProposed(address indexed proposer, bytes32 hash, uint256 holdings);
    event HoldersSubmitted(uint64 indexed epoch, address[] holders, uint256 holdings);
    event SnapshotSeeded(uint64 indexed epoch);
    event SnapshotTaken(uint64 indexed epoch, int256[] kpis, int256[8] values);

    constructor(address economy_, address pair_, address vault_, uint256 targetPrice_, uint256 yearlySpend_, uint8[8] scaleBits_, int256[8] lo, int256[8] hi, uint64 snapshotWindow_);

    function KPI_COUNT() external view returns (uint256);
    function TOP() external view returns (uint256);
    function WINDOW() external view returns (uint256);
    function currentEpoch() external view returns (uint64);
    function economy() external view returns (address);
    function epochLength() external view returns (uint64);
    function genesis() external view returns (uint64);
    function holderSet(uint64 epoch) external view returns (bytes32 hash, uint256 holdings, uint64 acceptedIn);
    function incentives() external view returns (address);
    function marksAt(uint256 k) external view returns (int64 sumReturns, uint64 sumSquares, uint128 volume);
    function pair() external view returns (address);
    function proposals(address) external view returns (bytes32 hash, uint64 proposedIn, uint128 holdings);
    function proposeHolders(address[] memory holders) external;
    function quote() external view returns (address);
    function snapshot(uint64 epoch) external view returns (int256[] memory kpis, uint64 postedAt);
    function snapshotWindow() external view returns (uint64);
    function state() external view returns (uint64 lastAt, uint64 count, uint128 lastTwap, uint128 priceCum, uint128 reserveCum, uint128 stakedCum, int128 lastConcentration);
    function submitHolders(address[] memory holders, address[] memory incumbent) external;
    function takeSnapshot(address[] memory incumbent) external returns (int256[] memory kpis);
    function taken(uint64 epoch) external view returns (bool);
    function targetPrice() external view returns (uint256);
    function token() external view returns (address);
    function vault() external view returns (address);
    function yearlySpend() external view returns (uint256);
}
