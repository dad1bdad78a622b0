// TokenEconomy's compiled ABI as a Solidity interface, written by `cargo run -p zkpolicy-contracts --example render_contracts`;
// the Rust bindings are generated from it. Do not edit.
interface TokenEconomy {
    error AlreadyConnected();
    error AlreadyReleased(uint64 epoch);
    error AlreadyTicked(uint64 epoch);
    error BadParameter(uint256 index, int256 value);
    error NoGovernor();
    error NotDeployer();
    error NotGovernor();
    error NotStarted();
    error ReentrancyGuardReentrantCall();
    error SafeERC20FailedOperation(address token);

    event BudgetReleased(uint64 indexed epoch, address indexed payee, uint256 amount);
    event BudgetSet(address indexed payee, uint256 perEpoch);
    event BuybackSkipped(uint64 indexed epoch, string reason);
    event ParameterRefused(uint64 indexed epoch, uint256 index, int256 value);
    event ParametersRefused(uint64 indexed epoch, string reason);
    event ParametersTaken(uint64 indexed epoch, uint256[4] values);
    event Spent(address indexed to, uint256 amount);
    event Ticked(uint64 indexed epoch, uint256 emitted, uint256 rewarded, uint256 burned, uint256 spent);

    constructor(address token_, address quote_, address incentives_, address governor_, uint64 genesis_, uint64 epochLength_, uint256[4] initial, address budgetPayee, uint256 budgetPerEpoch_);

    function EPOCHS_PER_YEAR() external view returns (uint256);
    function MAX_BAND_BPS() external view returns (uint256);
    function MAX_FEE_BPS() external view returns (uint256);
    function MAX_RATE_BPS() external view returns (uint256);
    function MAX_SPEND_BPS() external view returns (uint256);
    function budgetPerEpoch() external view returns (uint256);
    function budgetStream() external view returns (address payee, uint256 perEpoch, uint64 releasedEpoch);
    function connect(address pair_, address vault_, address controller_) external;
    function controller() external view returns (address);
    function currentEpoch() external view returns (uint64);
    function deployer() external view returns (address);
    function epochLength() external view returns (uint64);
    function feeBps() external view returns (uint256);
    function genesis() external view returns (uint64);
    function governor() external view returns (address);
    function incentives() external view returns (address);
    function lastFlows() external view returns (uint256 emitted, uint256 rewarded, uint256 burned);
    function lastTick() external view returns (uint64);
    function pair() external view returns (address);
    function parameters() external view returns (uint256[4] memory);
    function quote() external view returns (address);
    function releaseBudget() external returns (uint256 paid);
    function setBudget(address payee, uint256 perEpoch) external;
    function spend(address to, uint256 amount) external;
    function tick() external;
    function token() external view returns (address);
    function vault() external view returns (address);
}
